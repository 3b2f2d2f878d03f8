import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { IdentificationPolicy, type StepUpCandidates } from "../../core/identification-policy.ts";
import { fixedThresholdCalibration } from "../../core/score-calibration.ts";
import { STEP_UP_TTL_MS, StepUpChallenges } from "../../cloud/sagas/step-up-challenges.ts";

const phones: Record<string, string> = { ada: "+4915100000501", bo: "+4915100000502" };
const stepUp: StepUpCandidates = {
  candidates: [
    { identityId: "ada", score: 0.8 },
    { identityId: "bo", score: 0.7 },
  ],
  floorScore: 0.6,
};

const makeChallenges = () => {
  const clock = new ManualClock(0);
  const policy = new IdentificationPolicy({ calibration: fixedThresholdCalibration(0.9) });
  const confirmed: string[] = [];
  return { clock, confirmed, challenges: new StepUpChallenges({ policy, clock, phoneOf: (id) => phones[id], confirmed: (id) => confirmed.push(id) }) };
};

describe("step-up challenges", () => {
  test("confirms the digits of one close candidate and answers for that identity once", () => {
    const { challenges } = makeChallenges();
    const token = challenges.open("lane-1", "payment", stepUp);
    expect(challenges.submitDigits("lane-1", token, "0502")).toEqual({ outcome: "confirmed", attemptsLeft: 2 });
    expect(challenges.redeem("lane-1", token, "payment")).toBe("bo");
    expect(challenges.redeem("lane-1", token, "payment")).toBeUndefined();
  });

  test("tells who a person confirmed, once, and nobody for wrong digits", () => {
    const { challenges, confirmed } = makeChallenges();
    const token = challenges.open("lane-1", "gate", stepUp);
    challenges.submitDigits("lane-1", token, "1234");
    challenges.submitDigits("lane-1", token, "0501");
    expect(confirmed).toEqual(["ada"]);
  });

  test("lets wrong digits be tried again, then refuses after the last attempt", () => {
    const { challenges } = makeChallenges();
    const token = challenges.open("lane-1", "payment", stepUp);
    expect(challenges.submitDigits("lane-1", token, "1111")).toEqual({ outcome: "retry", attemptsLeft: 2 });
    expect(challenges.submitDigits("lane-1", token, "2222")).toEqual({ outcome: "retry", attemptsLeft: 1 });
    expect(challenges.submitDigits("lane-1", token, "3333")).toEqual({ outcome: "refused", attemptsLeft: 0 });
    expect(challenges.submitDigits("lane-1", token, "0501")).toEqual({ outcome: "refused", attemptsLeft: 0 });
  });

  test("refuses a token after it expired on the clock", () => {
    const { challenges, clock } = makeChallenges();
    const token = challenges.open("lane-1", "payment", stepUp);
    clock.advance(STEP_UP_TTL_MS);
    expect(challenges.submitDigits("lane-1", token, "0501")).toEqual({ outcome: "refused", attemptsLeft: 0 });
  });

  test("does not let another device answer or spend a token", () => {
    const { challenges } = makeChallenges();
    const token = challenges.open("lane-1", "payment", stepUp);
    expect(challenges.submitDigits("lane-2", token, "0501").outcome).toBe("refused");
    expect(challenges.submitDigits("lane-1", token, "0501").outcome).toBe("confirmed");
    expect(challenges.redeem("lane-2", token, "payment")).toBeUndefined();
  });

  test("does not let a confirmed token continue another kind of request", () => {
    const { challenges } = makeChallenges();
    const token = challenges.open("lane-1", "payment", stepUp);
    challenges.submitDigits("lane-1", token, "0501");
    expect(challenges.redeem("lane-1", token, "gate")).toBeUndefined();
  });

  test("never answers for an unconfirmed token", () => {
    const { challenges } = makeChallenges();
    const token = challenges.open("lane-1", "payment", stepUp);
    expect(challenges.redeem("lane-1", token, "payment")).toBeUndefined();
  });
});
