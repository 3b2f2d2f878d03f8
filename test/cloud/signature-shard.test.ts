import { describe, expect, test } from "vitest";
import type { IdentityId } from "../../core/ids.ts";
import { SIGNATURE_DIMENSION } from "../../core/palm-signature.ts";
import { SignatureShard } from "../../cloud/shards/signature-shard.ts";
import { ShardSet, shardOf } from "../../cloud/shards/shard-set.ts";
import { syntheticPalm } from "./fixtures.ts";

const id = (n: number) => `id_${n}` as IdentityId;

describe("signature shard", () => {
  test("finds the enrolled identity closest to a new capture", () => {
    const shard = new SignatureShard(SIGNATURE_DIMENSION);
    shard.add(Array.from({ length: 50 }, (_, n) => ({ identityId: id(n), template: syntheticPalm(n)(0) })));
    const [best] = shard.search(syntheticPalm(17)(1), 1);
    expect(best?.identityId).toBe(id(17));
    expect(best!.score).toBeGreaterThan(0.8);
  });

  test("never returns a removed identity", () => {
    const shard = new SignatureShard(SIGNATURE_DIMENSION);
    shard.add([0, 1, 2].map((n) => ({ identityId: id(n), template: syntheticPalm(n)(0) })));
    shard.remove(id(1));
    const results = shard.search(syntheticPalm(1)(1), 3);
    expect(results.map((r) => r.identityId)).not.toContain(id(1));
    expect(shard.size).toBe(2);
  });

  test("asks for no more neighbours than it holds", () => {
    const shard = new SignatureShard(SIGNATURE_DIMENSION);
    shard.add([{ identityId: id(0), template: syntheticPalm(0)(0) }]);
    expect(shard.search(syntheticPalm(0)(1), 10)).toHaveLength(1);
  });

  test("an empty shard answers with no candidates", () => {
    expect(new SignatureShard(SIGNATURE_DIMENSION).search(syntheticPalm(0)(0), 5)).toEqual([]);
  });

  test("adding an identity twice indexes it once", () => {
    const shard = new SignatureShard(SIGNATURE_DIMENSION);
    const entry = { identityId: id(0), template: syntheticPalm(0)(0) };
    shard.add([entry]);
    shard.add([entry]);
    expect(shard.size).toBe(1);
  });
});

describe("shard set", () => {
  test("places each identity in the shard its id hashes to", () => {
    const set = new ShardSet({ shardCount: 4, dimension: SIGNATURE_DIMENSION });
    set.add(Array.from({ length: 40 }, (_, n) => ({ identityId: id(n), template: syntheticPalm(n)(0) })));
    for (let n = 0; n < 40; n++) expect(set.shards[shardOf(id(n), 4)]!.has(id(n))).toBe(true);
    expect(set.size).toBe(40);
  });

  test("gathers the best candidate from whichever shard holds it", () => {
    const set = new ShardSet({ shardCount: 3, dimension: SIGNATURE_DIMENSION });
    set.add(Array.from({ length: 30 }, (_, n) => ({ identityId: id(n), template: syntheticPalm(n)(0) })));
    for (const n of [0, 11, 29]) expect(set.search(syntheticPalm(n)(5), 1)[0]?.identityId).toBe(id(n));
  });
});
