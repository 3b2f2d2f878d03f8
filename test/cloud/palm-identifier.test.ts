import { describe, expect, test } from "vitest";
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import { SIGNATURE_DIMENSION } from "../../core/palm-signature.ts";
import { PalmIdentifier } from "../../cloud/identification/palm-identifier.ts";
import { ShardSet } from "../../cloud/shards/shard-set.ts";
import { openTestRegistry, syntheticPalm } from "./fixtures.ts";

// Synthetic captures of one palm agree at about 0.94; different palms near 0.
const THRESHOLD = 0.7;

const makeIdentifier = async () => {
  const { registry, db } = await openTestRegistry();
  const shards = new ShardSet({ shardCount: 2, dimension: SIGNATURE_DIMENSION });
  let now = 1_000;
  const identifier = new PalmIdentifier({ registry, shards, now: () => now, threshold: THRESHOLD });
  return { identifier, registry, shards, db, advance: (ms: number) => (now += ms) };
};

const captures = (seed: number, from = 0) => [0, 1, 2].map((c) => syntheticPalm(seed)(from + c));

describe("palm identifier", () => {
  test("identifies an enrolled palm from a new capture", async () => {
    const { identifier } = await makeIdentifier();
    const identityId = identifier.enroll(captures(1));
    identifier.enroll(captures(2));
    const decision = identifier.identify(syntheticPalm(1)(10));
    expect(decision).toMatchObject({ outcome: "match", identityId });
  });

  test("does not identify a palm that never enrolled", async () => {
    const { identifier } = await makeIdentifier();
    for (const seed of [1, 2, 3]) identifier.enroll(captures(seed));
    expect(identifier.identify(syntheticPalm(99)(0)).outcome).toBe("no-match");
  });

  test("refuses to enroll a palm that is already enrolled", async () => {
    const { identifier, registry } = await makeIdentifier();
    identifier.enroll(captures(1));
    expect(() => identifier.enroll(captures(1, 20))).toThrow(AlreadyEnrolled);
    expect(registry.liveCount()).toBe(1);
  });

  test("refuses captures that show different palms", async () => {
    const { identifier } = await makeIdentifier();
    const mixed = [syntheticPalm(1)(0), syntheticPalm(1)(1), syntheticPalm(2)(0)];
    expect(() => identifier.enroll(mixed)).toThrow(InvalidSignature);
  });

  test("leaves out one capture that disagrees and enrolls from the three that agree", async () => {
    const { identifier } = await makeIdentifier();
    const identityId = identifier.enroll([...captures(1), syntheticPalm(2)(0)]);
    expect(identifier.identify(syntheticPalm(1)(10))).toMatchObject({ outcome: "match", identityId });
    expect(identifier.identify(syntheticPalm(2)(10)).outcome).toBe("no-match");
  });

  test("refuses two captures each of two different palms", async () => {
    const { identifier } = await makeIdentifier();
    const twoHands = [syntheticPalm(1)(0), syntheticPalm(1)(1), syntheticPalm(2)(0), syntheticPalm(2)(1)];
    expect(() => identifier.enroll(twoHands)).toThrow(/do not show the same palm/);
  });

  test("refuses an enrollment with fewer than three captures", async () => {
    const { identifier } = await makeIdentifier();
    expect(() => identifier.enroll(captures(1).slice(0, 2))).toThrow(/3 captures/);
  });

  test("persists before indexing, so every indexed identity has a registry record", async () => {
    const { identifier, registry, shards } = await makeIdentifier();
    const identityId = identifier.enroll(captures(4));
    expect(registry.isLive(identityId)).toBe(true);
    expect(shards.has(identityId)).toBe(true);
  });

  test("a match refreshes the identity's last-seen time", async () => {
    const { identifier, db, advance } = await makeIdentifier();
    const identityId = identifier.enroll(captures(5));
    advance(60_000);
    identifier.identify(syntheticPalm(5)(9));
    const row = db.prepare("SELECT last_seen_ms FROM identities WHERE identity_id = ?").get(identityId) as { last_seen_ms: number };
    expect(row.last_seen_ms).toBe(61_000);
  });
});
