import { describe, expect, test } from "vitest";
import { bestOfAlignmentsCalibration, fitBestOfAlignmentsTail, gaussianTailCalibration } from "../../core/score-calibration.ts";

describe("best-of-alignments impostor tail", () => {
  test("with one alignment it is the normal upper tail", () => {
    const one = bestOfAlignmentsCalibration({ mean: 0.5, sigma: 0.02, alignments: 1 });
    const normal = gaussianTailCalibration(0.5, 0.02);
    for (const s of [0.5, 0.54, 0.6]) expect(one.falseMatchRate(s) / normal.falseMatchRate(s)).toBeCloseTo(1, 9);
  });

  test("the best of K alignments exceeds a score with probability 1 - (1 - q)^K", () => {
    // At the mean q = 1/2: 1 - (1/2)^3 = 0.875.
    expect(bestOfAlignmentsCalibration({ mean: 0.5, sigma: 0.02, alignments: 3 }).falseMatchRate(0.5)).toBeCloseTo(0.875, 12);
    // Deep in the tail it is K times the single-alignment rate.
    const k = bestOfAlignmentsCalibration({ mean: 0.5, sigma: 0.02, alignments: 40 }), one = gaussianTailCalibration(0.5, 0.02);
    expect(k.falseMatchRate(0.62) / (40 * one.falseMatchRate(0.62))).toBeCloseTo(1, 6);
  });

  test("scoreForFalseMatchRate inverts falseMatchRate down to 1e-12", () => {
    const c = bestOfAlignmentsCalibration({ mean: 0.55, sigma: 0.018, alignments: 60 });
    for (const fmr of [0.5, 1e-3, 1e-6, 1e-9, 1e-12]) expect(c.falseMatchRate(c.scoreForFalseMatchRate(fmr)) / fmr).toBeCloseTo(1, 6);
  });

  test("a fit on scores drawn from the model recovers its tail", () => {
    // Deterministic draws: the best of 16 normal values per impostor, from a fixed LCG.
    let state = 12345;
    const uniform = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
    const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const scores = Float64Array.from({ length: 200_000 }, () => {
      let best = -Infinity;
      for (let k = 0; k < 16; k++) best = Math.max(best, 0.5 + 0.02 * normal());
      return best;
    }).sort();
    const fitted = bestOfAlignmentsCalibration(fitBestOfAlignmentsTail(scores));
    const truth = bestOfAlignmentsCalibration({ mean: 0.5, sigma: 0.02, alignments: 16 });
    // Agree within a factor 2 at 1e-4 (20 draws above) and at 1e-6 (extrapolated).
    for (const fmr of [1e-4, 1e-6]) {
      const ratio = fitted.falseMatchRate(truth.scoreForFalseMatchRate(fmr)) / fmr;
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
    }
  });
});
