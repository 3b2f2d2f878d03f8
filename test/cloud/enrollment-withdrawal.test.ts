// An enrollment its caller gave up on (the kiosk saga's persisting deadline passed while it
// waited behind other enrollments) must not be stored afterwards: before, the saga answered
// "rejected" while the queued enrollment went on to commit the palm.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect } from "effect";
import { afterEach, describe, expect, test } from "vitest";
import { PALM_VECTOR_DIMENSION } from "../../core/palm-template-vector.ts";
import { openRegistryAtRest, type RegistryAtRest } from "../../cloud/identity/registry-at-rest.ts";
import { EnrollmentWithdrawn, PalmIdentifier } from "../../cloud/identification/palm-identifier.ts";
import { exactLayout } from "../../cloud/shards/index-layout.ts";
import { ShardSet } from "../../cloud/shards/shard-set.ts";
import { syntheticPalm } from "./fixtures.ts";

const opened: { shards: ShardSet; atRest: RegistryAtRest }[] = [];
afterEach(async () => {
  for (const { shards, atRest } of opened.splice(0)) {
    await atRest.close();
    await shards.close();
  }
});

const makeIdentifier = async () => {
  const atRest = await openRegistryAtRest({ dataDir: mkdtempSync(join(tmpdir(), "palmline-withdrawal-")), regionId: "test", storage: "memory" });
  const shards = await ShardSet.create({ shardCount: 1, dimension: PALM_VECTOR_DIMENSION, layout: exactLayout });
  opened.push({ shards, atRest });
  const identifier = new PalmIdentifier({ registry: atRest.registry, shards, index: await atRest.follow(shards), now: () => 1_000 });
  return { identifier, registry: atRest.registry };
};

const captures = (seed: number) => [0, 1, 2].map((c) => syntheticPalm(seed)(c));

describe("enrollment withdrawal", () => {
  test("an enrollment withdrawn while it waits behind another is never stored", async () => {
    const { identifier, registry } = await makeIdentifier();
    const deadline = new AbortController();
    const first = identifier.enroll(captures(1));
    const queued = identifier.enroll(captures(2), { signal: deadline.signal });
    deadline.abort(); // the caller's deadline passes while the first enrollment holds the turn
    await first;
    await expect(queued).rejects.toBeInstanceOf(EnrollmentWithdrawn);
    expect(Effect.runSync(registry.liveCount())).toBe(1);
  });

  test("an enrollment whose deadline has not passed is stored and indexed before it answers", async () => {
    const { identifier } = await makeIdentifier();
    const identityId = await identifier.enroll(captures(3), { signal: new AbortController().signal });
    expect(await identifier.identify(syntheticPalm(3)(9))).toMatchObject({ outcome: "match", identityId });
  });
});
