// The identifier applies the identification policy (core/identification-policy.ts) to its
// re-ranked candidates, for identification and for enrollment's duplicate check.
import { afterEach, describe, expect, test, vi } from "vitest";
import { AlreadyEnrolled } from "../../core/errors.ts";
import { IdentificationPolicy } from "../../core/identification-policy.ts";
import { PALM_VECTOR_DIMENSION } from "../../core/palm-template-vector.ts";
import type { ScoreCalibration } from "../../core/score-calibration.ts";
import { PalmIdentifier } from "../../cloud/identification/palm-identifier.ts";
import { exactLayout } from "../../cloud/shards/index-layout.ts";
import { ShardSet } from "../../cloud/shards/shard-set.ts";
import { openTestRegistry, syntheticPalm } from "./fixtures.ts";

// Score decades: FMR(s) = 10^(-10 s). At FPIR 1e-11 and 1-5 enrolled, nothing reaches the match
// threshold (above 1), the floor is 0.82-0.89 and impostors (about 0.52) are far below it: every
// genuine capture (about 0.94) lands in the grey zone.
const scoreDecades: ScoreCalibration = { falseMatchRate: (s) => 10 ** (-10 * s), scoreForFalseMatchRate: (fmr) => -Math.log10(fmr) / 10 };
const greyZonePolicy = new IdentificationPolicy({ calibration: scoreDecades, targetFpir: 1e-11 });

let opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.reverse()) await o.close();
  opened = [];
});

const makeIdentifier = async (options: { policy?: IdentificationPolicy } = {}) => {
  const testRegistry = await openTestRegistry();
  const { registry, db } = testRegistry;
  const shards = await ShardSet.create({ shardCount: 2, dimension: PALM_VECTOR_DIMENSION, layout: exactLayout });
  opened.push(testRegistry, shards);
  let now = 1_000;
  const observe = vi.fn();
  const identifier = new PalmIdentifier({
    registry,
    shards,
    index: await testRegistry.follow(shards),
    now: () => now,
    observe,
    ...(options.policy !== undefined ? { policy: options.policy } : {}),
  });
  const lastSeen = (identityId: string) =>
    (db.prepare("SELECT last_seen_ms FROM identities WHERE identity_id = ?").get(identityId) as { last_seen_ms: number }).last_seen_ms;
  return { identifier, observe, lastSeen, advance: (ms: number) => (now += ms) };
};

const captures = (seed: number, from = 0) => [0, 1, 2].map((c) => syntheticPalm(seed)(from + c));

describe("identification by the policy", () => {
  test("a genuine palm in the grey zone gets a step-up among the close candidates, not a match", async () => {
    const { identifier } = await makeIdentifier({ policy: greyZonePolicy });
    const identityId = await identifier.enroll(captures(1));
    await identifier.enroll(captures(2));
    const decision = await identifier.identify(syntheticPalm(1)(10));
    expect(decision.outcome).toBe("step-up");
    expect(decision.outcome === "step-up" && decision.stepUp.candidates.map((c) => c.identityId)).toEqual([identityId]);
  });

  test("a palm nobody resembles is no match even where every genuine palm needs a step-up", async () => {
    const { identifier } = await makeIdentifier({ policy: greyZonePolicy });
    await identifier.enroll(captures(1));
    expect((await identifier.identify(syntheticPalm(99)(0))).outcome).toBe("no-match");
  });

  test("a step-up is counted in the metrics by its own outcome and marks nobody as seen", async () => {
    const { identifier, observe, lastSeen, advance } = await makeIdentifier({ policy: greyZonePolicy });
    const identityId = await identifier.enroll(captures(1));
    advance(60_000);
    await identifier.identify(syntheticPalm(1)(10));
    expect(observe).toHaveBeenCalledWith("step-up", expect.any(Number));
    expect(lastSeen(identityId)).toBe(1_000);
  });

  test("a step-up the person confirmed marks the identity as seen, like a match", async () => {
    const { identifier, lastSeen, advance } = await makeIdentifier({ policy: greyZonePolicy });
    const identityId = await identifier.enroll(captures(1));
    advance(60_000);
    await identifier.recordStepUpConfirmed(identityId);
    expect(lastSeen(identityId)).toBe(61_000);
  });
});

describe("enrollment's duplicate check by the policy", () => {
  test("is not an identification: it marks nobody as seen and counts nothing", async () => {
    const { identifier, observe, lastSeen, advance } = await makeIdentifier();
    const identityId = await identifier.enroll(captures(1));
    advance(60_000);
    expect(await identifier.checkDuplicate(captures(1, 20))).toEqual({ duplicate: true });
    await expect(identifier.enroll(captures(1, 30))).rejects.toThrow(AlreadyEnrolled);
    expect(observe).not.toHaveBeenCalled();
    expect(lastSeen(identityId)).toBe(1_000);
  });

  test("enrolls a newcomer in the grey zone whom the phone shows to be someone else", async () => {
    const { identifier } = await makeIdentifier({ policy: greyZonePolicy });
    await identifier.enroll(captures(1));
    await expect(identifier.enroll(captures(1, 20), { sameAs: () => false })).resolves.toEqual(expect.any(String));
  });

  test("refuses a newcomer in the grey zone whom the phone shows to be the close candidate", async () => {
    const { identifier } = await makeIdentifier({ policy: greyZonePolicy });
    await identifier.enroll(captures(1));
    expect(await identifier.checkDuplicate(captures(1, 20), () => true)).toEqual({ duplicate: true });
    await expect(identifier.enroll(captures(1, 20), { sameAs: () => true })).rejects.toThrow(AlreadyEnrolled);
  });

  test("enrolls a newcomer in the grey zone when nothing can tell them apart (no phone)", async () => {
    const { identifier } = await makeIdentifier({ policy: greyZonePolicy });
    await identifier.enroll(captures(1));
    expect(await identifier.checkDuplicate(captures(1, 20))).toEqual({ duplicate: false });
  });
});
