import { describe, expect, test } from "vitest";
import {
  deployedScoreCalibration,
  fixedThresholdCalibration,
  gaussianTailCalibration,
  palmTemplateScoreCalibration,
  pessimisticCalibration,
  simulatedSensorScoreCalibration,
} from "../../core/score-calibration.ts";

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

  test("the most pessimistic of two calibrations takes, at every score, the higher false-match rate", () => {
    const low = gaussianTailCalibration(0, 1),
      high = gaussianTailCalibration(0.5, 1);
    const both = pessimisticCalibration(low, high);
    for (const s of [-1, 0, 2, 5]) expect(both.falseMatchRate(s)).toBe(high.falseMatchRate(s));
    for (const fmr of [1e-2, 1e-6]) expect(both.scoreForFalseMatchRate(fmr)).toBe(high.scoreForFalseMatchRate(fmr));
  });

  test("the deployed calibration is never looser than any sensor measured", () => {
    for (const fmr of [1e-3, 1e-4, 1e-6, 1e-9, 1e-11]) {
      const score = deployedScoreCalibration.scoreForFalseMatchRate(fmr);
      expect(score).toBeGreaterThanOrEqual(palmTemplateScoreCalibration.scoreForFalseMatchRate(fmr));
      expect(score).toBeGreaterThanOrEqual(simulatedSensorScoreCalibration.scoreForFalseMatchRate(fmr));
    }
    // The simulator's heavier tail decides at 1e-4, where the eval measured it (0.6502).
    expect(deployedScoreCalibration.scoreForFalseMatchRate(1e-4)).toBeCloseTo(0.6516, 3);
  });

  test("a fixed threshold calibration answers that threshold for every rate below 1", () => {
    const fixed = fixedThresholdCalibration(0.7);
    expect(fixed.scoreForFalseMatchRate(1e-9)).toBe(0.7);
    expect(fixed.falseMatchRate(0.69)).toBe(1);
    expect(fixed.falseMatchRate(0.7)).toBe(0);
  });
});
