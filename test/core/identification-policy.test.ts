import { describe, expect, test } from "vitest";
import { IdentificationPolicy, type StepUpCandidates } from "../../core/identification-policy.ts";
import type { ScoreCalibration } from "../../core/score-calibration.ts";

// A hand-checkable scale: FMR(s) = 10^(-10 s), so a score of 0.6 is FMR 1e-6.
const tenthDecades: ScoreCalibration = {
  falseMatchRate: (score) => 10 ** (-10 * score),
  scoreForFalseMatchRate: (fmr) => -Math.log10(fmr) / 10,
};
// FPIR 1e-4, 5 candidates, 3 attempts, 10^4 digit answers. At N = 100: accept at FMR 1e-6 (0.6),
// floor at min(1e-4, 1e-4 * 1e4 / (100 * 5 * 3)) = 1e-4 (0.4), close at 1e-2 (0.2).
const policy = new IdentificationPolicy({ calibration: tenthDecades, targetFpir: 1e-4 });
const c = (identityId: string, score: number) => ({ identityId, score });

describe("identification policy", () => {
  test("accepts a best candidate that clears the threshold for FPIR / N and the margin", () => {
    expect(policy.decide([c("ada", 0.7), c("bo", 0.3)], 100)).toEqual({ outcome: "match", identityId: "ada" });
  });

  test("answers no-match when the best is below the step-up floor", () => {
    expect(policy.decide([c("ada", 0.39), c("bo", 0.3)], 100)).toEqual({ outcome: "no-match" });
  });

  test("answers no-match when there is no candidate at all", () => {
    expect(policy.decide([], 100)).toEqual({ outcome: "no-match" });
  });

  test("asks for a step-up between the floor and the match threshold, with the close candidates best first", () => {
    expect(policy.decide([c("bo", 0.25), c("cem", 0.1), c("ada", 0.5)], 100)).toEqual({
      outcome: "step-up",
      stepUp: { candidates: [c("ada", 0.5), c("bo", 0.25)], floorScore: expect.closeTo(0.4, 9) },
    });
  });

  test("asks for a step-up when the best clears the threshold but the runner-up is within the margin", () => {
    // FMR 1e-7 vs 10^-6.5: the best is only about 3 times less likely an impostor, not 100.
    const decision = policy.decide([c("ada", 0.7), c("twin", 0.65)], 100);
    expect(decision.outcome).toBe("step-up");
    expect(decision.outcome === "step-up" && decision.stepUp.candidates.map((x) => x.identityId)).toEqual(["ada", "twin"]);
  });

  test("raises the match threshold and the floor with the number enrolled", () => {
    const small = policy.thresholds(100);
    const large = policy.thresholds(1_000_000);
    expect(small.acceptScore).toBeCloseTo(0.6, 9);
    expect(large.acceptScore).toBeCloseTo(1.0, 9);
    // 1e-4 * 1e4 / (1e6 * 5 * 3) = 6.67e-8
    expect(large.floorScore).toBeCloseTo(-Math.log10(1 / 15e6) / 10, 9);
    expect(policy.decide([c("ada", 0.8)], 100).outcome).toBe("match");
    expect(policy.decide([c("ada", 0.8)], 1_000_000).outcome).toBe("step-up");
  });

  test("decides for the planned population while fewer people are enrolled", () => {
    const planned = new IdentificationPolicy({ calibration: tenthDecades, targetFpir: 1e-4, minimumPopulation: 1_000_000 });
    expect(planned.thresholds(100)).toEqual(policy.thresholds(1_000_000));
    expect(planned.thresholds(2_000_000)).toEqual(policy.thresholds(2_000_000));
  });

  test("never lets the floor be looser than one-to-one verification at 1e-4", () => {
    expect(policy.thresholds(1).floorScore).toBeCloseTo(0.4, 9);
  });

  test("offers at most five close candidates", () => {
    const many = [0.55, 0.5, 0.45, 0.42, 0.41, 0.4, 0.3].map((s, i) => c(`p${i}`, s));
    const decision = policy.decide(many, 100);
    expect(decision.outcome === "step-up" && decision.stepUp.candidates.map((x) => x.identityId)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
  });
});

describe("step-up resolution", () => {
  const stepUp: StepUpCandidates = { candidates: [c("ada", 0.55), c("bo", 0.45), c("weak", 0.3)], floorScore: 0.4 };
  const digits: Record<string, string> = { ada: "0501", bo: "0502", weak: "0503" };
  const typed = (answer: string) => (identityId: string) => digits[identityId] === answer;

  test("accepts the one close candidate whose digits match", () => {
    expect(policy.resolveStepUp(stepUp, typed("0502"))).toEqual({ outcome: "accepted", identityId: "bo" });
  });

  test("refuses digits that match no close candidate", () => {
    expect(policy.resolveStepUp(stepUp, typed("9999"))).toEqual({ outcome: "refused", reason: "no-candidate" });
  });

  test("refuses digits that match two close candidates", () => {
    expect(policy.resolveStepUp(stepUp, () => true)).toEqual({ outcome: "refused", reason: "ambiguous" });
  });

  test("refuses a candidate whose digits match but whose palm is below the floor", () => {
    expect(policy.resolveStepUp(stepUp, typed("0503"))).toEqual({ outcome: "refused", reason: "below-floor" });
  });
});

describe("duplicate check at enrollment", () => {
  test("calls a palm that clears the match threshold a duplicate even when a runner-up is close", () => {
    expect(policy.checkDuplicate([c("ada", 0.7), c("twin", 0.68)], 100)).toEqual({ outcome: "duplicate", identityId: "ada" });
  });

  test("calls a palm below the floor new", () => {
    expect(policy.checkDuplicate([c("ada", 0.35)], 100)).toEqual({ outcome: "new" });
  });

  test("leaves a palm in the grey zone to the step-up", () => {
    expect(policy.checkDuplicate([c("ada", 0.5)], 100).outcome).toBe("step-up");
  });
});
