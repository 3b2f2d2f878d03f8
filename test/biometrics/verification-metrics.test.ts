import { expect, test } from "vitest";
import {
  dPrime,
  equalErrorRate,
  falseMatchRate,
  falseNonMatchRate,
  operatingPointAtFmr,
  resolvedOperatingPointAtFmr,
  sortedScores,
} from "../../core/verification-metrics.ts";
import { apcer, bpcer, thresholdAtBpcer } from "../../core/presentation-attack-metrics.ts";

// Hand-worked example: genuine {0.5, 0.7, 0.8, 0.9}, impostor {0.1, 0.2, 0.3, 0.6}.
const genuine = sortedScores([0.9, 0.5, 0.8, 0.7]);
const impostors = sortedScores([0.3, 0.1, 0.6, 0.2]);

test("false-match rate counts impostor scores at or above the threshold", () => {
  expect(falseMatchRate(impostors, 0.6)).toBe(0.25);
  expect(falseMatchRate(impostors, 0.25)).toBe(0.5);
  expect(falseMatchRate(impostors, 0.61)).toBe(0);
});

test("false-non-match rate counts genuine scores below the threshold", () => {
  expect(falseNonMatchRate(genuine, 0.5)).toBe(0);
  expect(falseNonMatchRate(genuine, 0.75)).toBe(0.5);
});

test("equal error rate is where one genuine and one impostor score are misclassified", () => {
  // At t = 0.6: FMR = 1/4 (0.6), FNMR = 1/4 (0.5). No threshold does better on both.
  const { eer, threshold } = equalErrorRate(genuine, impostors);
  expect(eer).toBeCloseTo(0.25, 12);
  expect(threshold).toBeGreaterThan(0.5);
  expect(threshold).toBeLessThanOrEqual(0.6);
});

test("equal error rate is zero for separated distributions", () => {
  expect(equalErrorRate(sortedScores([0.8, 0.9]), sortedScores([0.1, 0.2])).eer).toBe(0);
});

test("FNMR at a target FMR sets the threshold just above the allowed impostor scores", () => {
  // FMR 0.25 allows one impostor (0.6) to match: threshold just above 0.3, FNMR 0.
  const loose = operatingPointAtFmr(genuine, impostors, 0.25);
  expect(loose.fmr).toBe(0.25);
  expect(loose.fnmr).toBe(0);
  // FMR 0.1 allows none: threshold just above 0.6, genuine 0.5 is lost.
  const strict = operatingPointAtFmr(genuine, impostors, 0.1);
  expect(strict.fmr).toBe(0);
  expect(strict.fnmr).toBe(0.25);
  expect(strict.threshold).toBeGreaterThan(0.6);
});

test("d-prime is the mean separation in pooled standard deviations", () => {
  // genuine mean 0.725, variance 0.021875; impostor mean 0.3, variance 0.035.
  const expected = (0.725 - 0.3) / Math.sqrt((0.021875 + 0.035) / 2);
  expect(dPrime(genuine, impostors)).toBeCloseTo(expected, 10);
});

test("APCER and BPCER count attacks accepted and bona fide rejected", () => {
  expect(apcer([0.1, 0.2, 0.5, 0.05], 0.3)).toBe(0.25);
  expect(bpcer([0.2, 0.4, 0.6, 0.8], 0.3)).toBe(0.25);
});

test("the threshold at a BPCER target rejects no more bona fide presentations than allowed", () => {
  const bonaFide = [0.5, 0.1, 0.4, 0.3, 0.2, 0.6, 0.7, 0.8, 0.9, 1.0];
  const t = thresholdAtBpcer(bonaFide, 0.1);
  expect(t).toBe(0.2);
  expect(bpcer(bonaFide, t)).toBe(0.1);
});

test("an FMR operating point is reported only with at least 3 / FMR impostor comparisons", () => {
  // 4 impostors resolve FMR 0.75 (3 / 0.75 = 4) but not FMR 0.5 (3 / 0.5 = 6 needed).
  expect(resolvedOperatingPointAtFmr(genuine, impostors, 0.75)).toEqual(operatingPointAtFmr(genuine, impostors, 0.75));
  expect(resolvedOperatingPointAtFmr(genuine, impostors, 0.5)).toBeNull();
});

test("an FMR operating point needs genuine comparisons", () => {
  expect(resolvedOperatingPointAtFmr(sortedScores([]), impostors, 0.75)).toBeNull();
});
