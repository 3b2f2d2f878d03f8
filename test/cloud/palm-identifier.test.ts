import { Effect } from "effect";
import { afterEach, describe, expect, test, vi } from "vitest";
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import { cellOrientation, palmTemplateFromCells } from "../../core/palm-template.ts";
import { PALM_VECTOR_DIMENSION } from "../../core/palm-template-vector.ts";
import { PalmIdentifier } from "../../cloud/identification/palm-identifier.ts";
import { exactLayout } from "../../cloud/shards/index-layout.ts";
import { ShardSet } from "../../cloud/shards/shard-set.ts";
import { openTestRegistry, syntheticPalm } from "./fixtures.ts";

// Synthetic captures of one palm score about 0.94, different palms about 0.52; the deployed
// calibration decides.

let opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.reverse()) await o.close();
  opened = [];
});

const makeIdentifier = async (candidates?: number) => {
  const testRegistry = await openTestRegistry();
  const { registry, db } = testRegistry;
  const shards = await ShardSet.create({ shardCount: 2, dimension: PALM_VECTOR_DIMENSION, layout: exactLayout });
  opened.push(testRegistry, shards);
  let now = 1_000;
  const identifier = new PalmIdentifier({
    registry,
    shards,
    index: await testRegistry.follow(shards),
    now: () => now,
    ...(candidates === undefined ? {} : { candidates }),
  });
  return { identifier, registry, shards, db, advance: (ms: number) => (now += ms) };
};

const captures = (seed: number, from = 0) => [0, 1, 2].map((c) => syntheticPalm(seed)(from + c));

describe("palm identifier", () => {
  test("identifies an enrolled palm from a new capture", async () => {
    const { identifier } = await makeIdentifier();
    const identityId = await identifier.enroll(captures(1));
    await identifier.enroll(captures(2));
    const decision = await identifier.identify(syntheticPalm(1)(10));
    expect(decision).toMatchObject({ outcome: "match", identityId });
  });

  test("decrypts only the index's short list, never every enrolled template", async () => {
    const { identifier, registry } = await makeIdentifier(2);
    const identityId = await identifier.enroll(captures(1));
    for (const seed of [2, 3, 4, 5, 6]) await identifier.enroll(captures(seed));
    const read = vi.spyOn(registry, "templatesOf");
    expect(await identifier.identify(syntheticPalm(1)(10))).toMatchObject({ outcome: "match", identityId });
    const ids = read.mock.calls.flatMap(([ids]) => ids);
    expect(ids).toHaveLength(2);
    expect(ids).toContain(identityId);
  });

  test("does not identify a palm that never enrolled", async () => {
    const { identifier } = await makeIdentifier();
    for (const seed of [1, 2, 3]) await identifier.enroll(captures(seed));
    expect((await identifier.identify(syntheticPalm(99)(0))).outcome).toBe("no-match");
  });

  test("refuses to enroll a palm that is already enrolled", async () => {
    const { identifier, registry } = await makeIdentifier();
    await identifier.enroll(captures(1));
    await expect(identifier.enroll(captures(1, 20))).rejects.toThrow(AlreadyEnrolled);
    expect(Effect.runSync(registry.liveCount())).toBe(1);
  });

  test("refuses captures that show different palms", async () => {
    const { identifier } = await makeIdentifier();
    const mixed = [syntheticPalm(1)(0), syntheticPalm(1)(1), syntheticPalm(2)(0)];
    await expect(identifier.enroll(mixed)).rejects.toThrow(InvalidSignature);
  });

  test("leaves out one capture that disagrees and enrolls from the three that agree", async () => {
    const { identifier } = await makeIdentifier();
    const identityId = await identifier.enroll([...captures(1), syntheticPalm(2)(0)]);
    expect(await identifier.identify(syntheticPalm(1)(10))).toMatchObject({ outcome: "match", identityId });
    expect((await identifier.identify(syntheticPalm(2)(10))).outcome).toBe("no-match");
  });

  test("refuses two captures each of two different palms", async () => {
    const { identifier } = await makeIdentifier();
    const twoHands = [syntheticPalm(1)(0), syntheticPalm(1)(1), syntheticPalm(2)(0), syntheticPalm(2)(1)];
    await expect(identifier.enroll(twoHands)).rejects.toThrow(/do not show the same palm/);
  });

  test("refuses a probe without the veins channel, for which no calibration holds, with a typed error", async () => {
    const { identifier } = await makeIdentifier();
    await identifier.enroll(captures(1));
    const fused = syntheticPalm(1)(10)[0]!;
    const surfaceOnly = palmTemplateFromCells({ grid: fused.grid, orientations: fused.orientations, scales: 1, channels: ["surface"] }, [
      {
        winners: Array.from({ length: fused.grid ** 2 }, (_, i) => cellOrientation(fused, 0, 0, i % fused.grid, Math.floor(i / fused.grid))),
        valid: Array.from({ length: fused.grid ** 2 }, () => 1),
      },
    ]);
    await expect(identifier.identify([surfaceOnly])).rejects.toMatchObject({ _tag: "InvalidSignature", reason: expect.stringContaining("both channels") });
  });

  test("refuses an enrollment with fewer than three captures", async () => {
    const { identifier } = await makeIdentifier();
    await expect(identifier.enroll(captures(1).slice(0, 2))).rejects.toThrow(/3 captures/);
  });

  test("persists before indexing, so every indexed identity has a registry record", async () => {
    const { identifier, registry, shards } = await makeIdentifier();
    const identityId = await identifier.enroll(captures(4));
    expect(Effect.runSync(registry.isLive(identityId))).toBe(true);
    expect(await shards.has(identityId)).toBe(true);
  });

  test("two concurrent enrollments of one palm enroll it once", async () => {
    const { identifier, registry } = await makeIdentifier();
    const results = await Promise.allSettled([identifier.enroll(captures(6)), identifier.enroll(captures(6, 30))]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(Effect.runSync(registry.liveCount())).toBe(1);
  });

  test("a match refreshes the identity's last-seen time", async () => {
    const { identifier, db, advance } = await makeIdentifier();
    const identityId = await identifier.enroll(captures(5));
    advance(60_000);
    await identifier.identify(syntheticPalm(5)(9));
    const row = db.prepare("SELECT last_seen_ms FROM identities WHERE identity_id = ?").get(identityId) as { last_seen_ms: number };
    expect(row.last_seen_ms).toBe(61_000);
  });
});
