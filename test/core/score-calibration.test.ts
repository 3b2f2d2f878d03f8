import { describe, expect, test } from "vitest";
import { fixedThresholdCalibration, gaussianTailCalibration, deployedScoreCalibration } from "../../core/score-calibration.ts";

describe("score calibration", () => {
  test("a Gaussian tail gives the textbook upper-tail probabilities", () => {
    const standard = gaussianTailCalibration(0, 1);
    expect(standard.falseMatchRate(0)).toBeCloseTo(0.5, 12);
    expect(standard.falseMatchRate(1.959964) / 0.025).toBeCloseTo(1, 5);
    expect(standard.falseMatchRate(5.199338) / 1e-7).toBeCloseTo(1, 4);
  });

  test("scoreForFalseMatchRate inverts falseMatchRate", () => {
    const standard = gaussianTailCalibration(0.1, 0.1);
    for (const fmr of [1e-2, 1e-4, 1e-7, 1e-10]) expect(standard.falseMatchRate(standard.scoreForFalseMatchRate(fmr)) / fmr).toBeCloseTo(1, 6);
  });

  test("the provisional two-stage calibration puts FMR 1e-4 at the evaluation's 0.5278", () => {
    expect(deployedScoreCalibration.scoreForFalseMatchRate(1e-4)).toBeCloseTo(0.5278, 3);
  });

  test("a fixed threshold calibration answers that threshold for every rate below 1", () => {
    const fixed = fixedThresholdCalibration(0.7);
    expect(fixed.scoreForFalseMatchRate(1e-9)).toBe(0.7);
    expect(fixed.falseMatchRate(0.69)).toBe(1);
    expect(fixed.falseMatchRate(0.7)).toBe(0);
  });
});
