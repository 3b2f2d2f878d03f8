import { describe, expect, test } from "vitest";
import { fitImpostorTail, impostorTailCalibration, palmTemplateScoreCalibration } from "../../core/score-calibration.ts";

const tail = { threshold: 0.62, exceedance: 1e-3, shape: -0.1, scale: 0.01, mean: 0.55, sigma: 0.0226 };

describe("impostor tail (peaks over threshold)", () => {
  test("above the threshold the rate is the exceedance times the generalised Pareto survival", () => {
    const c = impostorTailCalibration(tail);
    expect(c.falseMatchRate(0.62)).toBeCloseTo(1e-3, 15);
    // y = 0.02 / 0.01 = 2: (1 - 0.1 * 2)^(1 / 0.1) = 0.8^10.
    expect(c.falseMatchRate(0.64) / (1e-3 * 0.8 ** 10)).toBeCloseTo(1, 12);
  });

  test("a bounded tail (negative shape) never reaches beyond threshold + scale / -shape", () => {
    const c = impostorTailCalibration(tail);
    expect(c.falseMatchRate(0.62 + 0.1 + 1e-9)).toBe(0);
  });

  test("with zero shape the excess is exponential", () => {
    const c = impostorTailCalibration({ ...tail, shape: 0 });
    expect(c.falseMatchRate(0.64) / (1e-3 * Math.exp(-2))).toBeCloseTo(1, 12);
  });

  test("scoreForFalseMatchRate inverts falseMatchRate in the tail and in the bulk", () => {
    for (const shape of [-0.2, 0, 0.15]) {
      const c = impostorTailCalibration({ ...tail, shape });
      for (const fmr of [1e-2, 1e-4, 1e-6, 1e-9]) expect(c.falseMatchRate(c.scoreForFalseMatchRate(fmr)) / fmr).toBeCloseTo(1, 6);
    }
  });

  test("a fit on exponential excesses recovers a zero shape and their scale", () => {
    // 1,000,000 scores: the top 1,000 are 0.7 + exponential quantiles of scale 0.01, the rest below 0.7.
    const n = 1_000_000,
      m = 1000;
    const scores = new Float64Array(n);
    for (let i = 0; i < n - m; i++) scores[i] = 0.5 + (0.2 * i) / (n - m);
    for (let j = 0; j < m; j++) scores[n - m + j] = 0.7 - 0.01 * Math.log(1 - (j + 0.5) / m);
    const fit = fitImpostorTail(scores, 1e-3);
    expect(fit.threshold).toBeCloseTo(0.7, 3);
    expect(Math.abs(fit.shape)).toBeLessThan(0.05);
    expect(fit.scale).toBeCloseTo(0.01, 3);
  });

  test("a fit refuses too few impostor scores", () => {
    expect(() => fitImpostorTail(new Float64Array(1000).fill(0.5))).toThrow(RangeError);
  });
});

test("the palm template calibration puts FMR 1e-3 at its fitted threshold and falls exponentially beyond", () => {
  expect(palmTemplateScoreCalibration.scoreForFalseMatchRate(1e-3)).toBeCloseTo(0.6256, 4);
  // Each factor e fewer false matches costs one scale (0.00799) of score.
  expect(palmTemplateScoreCalibration.scoreForFalseMatchRate(1e-3 / Math.E) - 0.6256).toBeCloseTo(0.00799, 5);
});
