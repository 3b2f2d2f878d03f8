import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { join } from "node:path";
import type { IdentityId } from "../../core/ids.ts";
import { PALM_VECTOR_DIMENSION, palmIndexVector } from "../../core/palm-template-vector.ts";
import { exactLayout, type IndexLayout } from "../../cloud/shards/index-layout.ts";
import { SealedShardUnreadable, type SealedShardFile } from "../../cloud/shards/sealed-shard-file.ts";
import { SignatureShard } from "../../cloud/shards/signature-shard.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { ShardSet, shardOf } from "../../cloud/shards/shard-set.ts";
import { syntheticTemplate, tempDir } from "./fixtures.ts";

/** The shards' vector of one capture of a synthetic palm. */
const vectorOf = (seed: number, capture: number) => palmIndexVector(syntheticTemplate(seed, capture));

const id = (n: number) => `id_${n}` as IdentityId;
const templates = (ns: number[]) => {
  const out = new Float32Array(ns.length * PALM_VECTOR_DIMENSION);
  ns.forEach((n, row) => out.set(palmIndexVector(syntheticTemplate(n)), row * PALM_VECTOR_DIMENSION));
  return out;
};
const shardWith = (ns: number[]) => {
  const shard = SignatureShard.create(exactLayout, PALM_VECTOR_DIMENSION);
  shard.add(ns.map(id), templates(ns));
  return shard;
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sodium = await loadSodium();
const sealedFile = (generation = 1, shard = 0, key = new Uint8Array(32).fill(9)): SealedShardFile => ({
  path: join(tempDir(), "s.sealed"),
  key,
  generation,
  shard,
});

describe("signature shard", () => {
  test("finds the enrolled identity closest to a new capture", () => {
    const [best] = shardWith(range(50)).search(vectorOf(17, 1), 1);
    expect(best?.identityId).toBe(id(17));
    expect(best!.score).toBeGreaterThan(0.5);
  });

  test("never returns a removed identity, and keeps the others findable", () => {
    const shard = shardWith([0, 1, 2]);
    expect(shard.remove([id(1)])).toBe(1);
    expect(shard.search(vectorOf(1, 1), 3).map((r) => r.identityId)).not.toContain(id(1));
    expect(shard.search(vectorOf(2, 1), 1)[0]?.identityId).toBe(id(2));
    expect(shard.size).toBe(2);
  });

  test("a label removed is never reused by a later add", () => {
    const shard = shardWith([0, 1]);
    shard.remove([id(0)]);
    shard.add([id(5)], templates([5]));
    expect(shard.search(vectorOf(1, 1), 1)[0]?.identityId).toBe(id(1));
    expect(shard.search(vectorOf(5, 1), 1)[0]?.identityId).toBe(id(5));
  });

  test("asks for no more neighbours than it holds", () => {
    expect(shardWith([0]).search(vectorOf(0, 1), 10)).toHaveLength(1);
  });

  test("an empty shard answers with no candidates", () => {
    expect(SignatureShard.create(exactLayout, PALM_VECTOR_DIMENSION).search(vectorOf(0, 0), 5)).toEqual([]);
  });

  test("adding an identity twice indexes it once", () => {
    const shard = shardWith([0]);
    expect(shard.add([id(0)], templates([0]))).toBe(0);
    expect(shard.size).toBe(1);
  });

  test("a snapshot loads back with the same identities and answers", () => {
    const shard = shardWith(range(20));
    shard.remove([id(3)]);
    const file = sealedFile();
    shard.writeSnapshot(sodium, file);
    const loaded = SignatureShard.load(sodium, exactLayout, file);
    expect(loaded.identityIds().sort()).toEqual(shard.identityIds().sort());
    expect(loaded.search(vectorOf(7, 2), 1)[0]?.identityId).toBe(id(7));
  });

  test("a snapshot file holds neither a template's vector nor an identity id in clear", () => {
    const file = sealedFile();
    shardWith([0, 1]).writeSnapshot(sodium, file);
    const bytes = readFileSync(file.path);
    const vector = Buffer.from(templates([1]).buffer);
    // Any 64 bytes of the vector would do; its middle is never all zeros (masked cells).
    expect(bytes.indexOf(vector.subarray(vector.length / 2, vector.length / 2 + 64))).toBe(-1);
    expect(bytes.indexOf(Buffer.from(id(1)))).toBe(-1);
  });

  test("a snapshot file with one byte changed is refused", () => {
    const file = sealedFile();
    shardWith(range(5)).writeSnapshot(sodium, file);
    const bytes = readFileSync(file.path);
    bytes[bytes.length - 100]! ^= 1;
    writeFileSync(file.path, bytes);
    expect(() => SignatureShard.load(sodium, exactLayout, file)).toThrow(SealedShardUnreadable);
  });

  test("a snapshot file cut short is refused", () => {
    const file = sealedFile();
    shardWith(range(5)).writeSnapshot(sodium, file);
    const bytes = readFileSync(file.path);
    writeFileSync(file.path, bytes.subarray(0, bytes.length - 1_000));
    expect(() => SignatureShard.load(sodium, exactLayout, file)).toThrow(SealedShardUnreadable);
  });

  test("a snapshot file does not open as another shard's or another generation's", () => {
    const file = sealedFile(4, 0);
    shardWith(range(5)).writeSnapshot(sodium, file);
    expect(() => SignatureShard.load(sodium, exactLayout, { ...file, shard: 1 })).toThrow(SealedShardUnreadable);
    expect(() => SignatureShard.load(sodium, exactLayout, { ...file, generation: 3 })).toThrow(SealedShardUnreadable);
  });

  test("a snapshot file does not open under another key", () => {
    const file = sealedFile();
    shardWith(range(5)).writeSnapshot(sodium, file);
    expect(() => SignatureShard.load(sodium, exactLayout, { ...file, key: new Uint8Array(32).fill(8) })).toThrow(SealedShardUnreadable);
  });

  test("a trained projected layout finds the closest identity", () => {
    const layout: IndexLayout = { description: "PCA64,IVF4,SQ8", nprobe: 4, trainingSize: 300 };
    const trained = SignatureShard.train(layout, PALM_VECTOR_DIMENSION, templates(range(300)));
    const shard = SignatureShard.create(layout, PALM_VECTOR_DIMENSION, trained);
    shard.add(range(300).map(id), templates(range(300)));
    expect(shard.search(vectorOf(123, 1), 1)[0]?.identityId).toBe(id(123));
  });

  test("a projected layout finds a palm unlike its training sample, and scores it as a cosine", () => {
    // Training sample and background: a mean plus combinations of 10 directions. The palm to find
    // lies mostly outside them, so its projection carries little energy; compared by inner
    // product after PCA's centring, the background's energetic projections would outrank it.
    let seed = 7;
    const normal = () => {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      const u1 = (seed + 1) / 2 ** 32;
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos((2 * Math.PI * seed) / 2 ** 32);
    };
    const d = PALM_VECTOR_DIMENSION;
    const vector = (scale: number) => Float32Array.from({ length: d }, () => normal() * scale);
    const unit = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const mean = vector(1 / Math.sqrt(d));
    const directions = Array.from({ length: 10 }, () => vector(1 / Math.sqrt(d)));
    const background = () => {
      const v = Float32Array.from(mean);
      for (const b of directions) {
        const w = normal();
        for (let i = 0; i < d; i++) v[i] = v[i]! + w * b[i]!;
      }
      return unit(v);
    };
    const rows = Array.from({ length: 400 }, () => background());
    const all = new Float32Array(rows.length * d);
    rows.forEach((r, i) => all.set(r, i * d));
    const layout: IndexLayout = { description: "PCA32,IVF4,Flat", nprobe: 4, trainingSize: 400, metric: "l2" };
    const shard = SignatureShard.create(layout, d, SignatureShard.train(layout, d, all));
    shard.add(
      rows.map((_, n) => id(n)),
      all,
    );
    const outsider = unit(mean.map((m, i) => m + 1.5 * vector(1 / Math.sqrt(d))[i]!));
    shard.add([id(999)], outsider);
    const probe = unit(outsider.map((x) => x + normal() * (0.3 / Math.sqrt(d))));
    const [best] = shard.search(probe, 5);
    expect(best?.identityId).toBe(id(999));
    const cosine = probe.reduce((s, x, i) => s + x * outsider[i]!, 0);
    expect(best!.score).toBeGreaterThanOrEqual(cosine - 1e-3);
    expect(best!.score).toBeLessThanOrEqual(1);
  });
});

describe("shard set on worker threads", () => {
  let open: ShardSet | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });
  const setWith = async (shardCount: number, n: number) => {
    open = await ShardSet.create({ shardCount, dimension: PALM_VECTOR_DIMENSION, layout: exactLayout });
    await open.add(range(n).map((i) => ({ identityId: id(i), template: syntheticTemplate(i) })));
    return open;
  };

  test("places each identity in the shard its id hashes to", async () => {
    const set = await setWith(4, 40);
    const ids = await set.identityIds();
    expect(ids.sort()).toEqual(range(40).map(id).sort());
    for (const n of [0, 13, 39]) expect(shardOf(id(n), 4)).toBeLessThan(4);
    expect(set.size).toBe(40);
  });

  test("gathers the best candidate from whichever shard holds it", async () => {
    const set = await setWith(3, 30);
    for (const n of [0, 11, 29]) expect((await set.search(syntheticTemplate(n, 5), 1))[0]?.identityId).toBe(id(n));
  });

  test("searches run concurrently without losing or mixing replies", async () => {
    const set = await setWith(2, 30);
    const answers = await Promise.all(range(30).map((n) => set.search(syntheticTemplate(n, 3), 1)));
    answers.forEach((a, n) => expect(a[0]?.identityId).toBe(id(n)));
  });
});
