// How a match score translates into impostor odds: the one place that knows the score's scale.
// The identification policy (core/identification-policy.ts) reasons only in false-match rates,
// so a new matcher with another scale needs only a new calibration here.
//
// `deployedScoreCalibration` is the calibration the region decides with; the identifier, the
// demo and the flow tests take it from here, so a new sensor or matcher means a new fit here.
import type { TemplateChannel } from "./palm-template.ts";

export interface ScoreCalibration {
  readonly falseMatchRate: (score: number) => number /* per-comparison P(impostor >= score) */;
  readonly scoreForFalseMatchRate: (fmr: number) => number;
}

/** erfc(x) for x >= 0: power series below 3, Lentz continued fraction above (relative error ~1e-15). */
const erfc = (x: number): number => {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
};

/** Inverts a decreasing FMR curve by bisection over the score range [lo, hi]. */
const invertDecreasing = (fmrOf: (score: number) => number, fmr: number, lo: number, hi: number): number => {
  if (fmr >= fmrOf(lo)) return lo;
  if (fmr <= fmrOf(hi)) return hi;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (fmrOf(mid) > fmr) lo = mid;
    else hi = mid;
  }
  return hi;
};

/** Impostor scores modelled as a normal tail; scores live in [-1, 1]. */
export const gaussianTailCalibration = (mean: number, sigma: number): ScoreCalibration => {
  const falseMatchRate = (score: number) => 0.5 * erfc((score - mean) / (sigma * Math.SQRT2));
  return { falseMatchRate, scoreForFalseMatchRate: (fmr) => invertDecreasing(falseMatchRate, fmr, -1, 1) };
};

/** Standard normal upper tail Q(z) = P(Z >= z). */
const upperTail = (z: number): number => 0.5 * erfc(z / Math.SQRT2);

/**
 * The palm template matcher's impostor model (core/palm-template-matching.ts), peaks over a
 * threshold: above the score `threshold`, which a share `exceedance` of impostor comparisons
 * reach, the excess follows a generalised Pareto distribution,
 *   P(impostor >= s) = exceedance * (1 + shape * (s - threshold) / scale)^(-1 / shape),
 * (shape < 0: a bounded tail, shape > 0: a heavy one); below the threshold, where no decision is
 * ever taken, the bulk is a normal tail (mean, sigma) through the median and the threshold.
 */
export interface ImpostorTail {
  readonly threshold: number;
  readonly exceedance: number;
  readonly shape: number;
  readonly scale: number;
  readonly mean: number;
  readonly sigma: number;
}

export const impostorTailCalibration = (tail: ImpostorTail): ScoreCalibration => {
  const { threshold, exceedance, shape, scale } = tail;
  const bulk = gaussianTailCalibration(tail.mean, tail.sigma);
  const falseMatchRate = (score: number): number => {
    if (score < threshold) return Math.max(exceedance, bulk.falseMatchRate(score));
    const y = (score - threshold) / scale;
    if (Math.abs(shape) < 1e-9) return exceedance * Math.exp(-y);
    const base = 1 + shape * y;
    return base <= 0 ? 0 : exceedance * base ** (-1 / shape);
  };
  return {
    falseMatchRate,
    scoreForFalseMatchRate: (fmr) => {
      if (fmr >= exceedance) return bulk.scoreForFalseMatchRate(fmr);
      if (fmr <= 0) return threshold + (shape < 0 ? -scale / shape : Infinity);
      const r = fmr / exceedance;
      return threshold + scale * (Math.abs(shape) < 1e-9 ? -Math.log(r) : (r ** -shape - 1) / shape);
    },
  };
};

/**
 * Fits an ImpostorTail to measured impostor scores (ascending): the threshold is the score that
 * `exceedance` of them reach; shape and scale of the excesses by probability-weighted moments
 * (Hosking and Wallis, 1987), which stay sound for bounded tails; the bulk's mean and sigma put
 * the normal through the median and the threshold.
 */
export const fitImpostorTail = (impostorsAscending: ArrayLike<number>, exceedance = 1e-3): ImpostorTail => {
  const n = impostorsAscending.length;
  const m = Math.round(exceedance * n);
  if (m < 30) throw new RangeError(`${n} impostor scores leave ${m} above the threshold: too few to fit a tail`);
  const threshold = impostorsAscending[n - m - 1]!;
  // Excesses over the threshold, ascending; a0 = E[Y], a1 = E[Y (1 - F(Y))].
  let a0 = 0,
    a1 = 0;
  for (let i = 0; i < m; i++) {
    const y = impostorsAscending[n - m + i]! - threshold;
    a0 += y;
    a1 += y * ((m - 1 - i) / (m - 1));
  }
  a0 /= m;
  a1 /= m;
  const k = a0 / (a0 - 2 * a1) - 2;
  const scale = (2 * a0 * a1) / (a0 - 2 * a1);
  const median = impostorsAscending[n >> 1]!;
  // z with Q(z) = exceedance, by bisection.
  let lo = 0,
    hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (upperTail(mid) > exceedance) lo = mid;
    else hi = mid;
  }
  const sigma = (threshold - median) / ((lo + hi) / 2);
  return { threshold, exceedance: m / n, shape: -k, scale, mean: median, sigma };
};

/** The palm template matcher's calibration (PALM_TEMPLATE_MATCHING, fused channels): the tail
 *  fitImpostorTail found on the 804,600 impostor scores of `npm run eval -- --dataset
 *  ../shared/palmsets/polyu-ms --sessions s1,s2 --channel fused --limit-subjects 150` (threshold
 *  0.6256 reached by 1e-3 of them, scale 0.00799, bulk mean 0.5555, sigma 0.0227), except its
 *  shape: the fit's -0.193 is a bounded tail ending at 0.667, and an endpoint estimated from 800
 *  excesses is no ground for claims at 1e-9; shape 0 (an exponential excess) is used instead. It
 *  over-predicts the larger run's tail (docs/biometrics.md, "Impostor tail"), so it errs towards
 *  step-ups, not false accepts. Fused two-channel scores only: one channel alone has a wider
 *  impostor distribution (iitd-touchless). */
export const palmTemplateScoreCalibration: ScoreCalibration = impostorTailCalibration({
  threshold: 0.6256,
  exceedance: 1e-3,
  shape: 0,
  scale: 0.00799,
  mean: 0.5555,
  sigma: 0.0227,
});

/** The simulated sensor's calibration (PALM_TEMPLATE_MATCHING, fused channels): the tail
 *  fitImpostorTail found on the 2,846,504 impostor scores of `npm run eval -- --synthetic 600
 *  --captures 4` (threshold 0.6351 reached by 1e-3 of them, scale 0.00716, bulk mean 0.5589, sigma
 *  0.0247; in-sample 283 observed against 284.7 predicted at FMR 1e-4, 30 against 28.5 at 1e-5, 4
 *  against 2.8 at 1e-6), with shape 0 instead of the fit's -0.078 for the same reason as above.
 *  The simulator's impostors score higher than polyu-ms's: against palmTemplateScoreCalibration
 *  it showed 764 impostors at its 1e-4 score where 285 were predicted. */
export const simulatedSensorScoreCalibration: ScoreCalibration = impostorTailCalibration({
  threshold: 0.6351,
  exceedance: 1e-3,
  shape: 0,
  scale: 0.00716,
  mean: 0.5589,
  sigma: 0.0247,
});

/**
 * The most pessimistic of several calibrations: at every score the highest false-match rate any
 * of them gives (and so, for every rate, the highest score). A region that does not know which
 * sensor a probe came from decides as if from the sensor whose impostors score highest there.
 */
export const pessimisticCalibration = (...calibrations: readonly ScoreCalibration[]): ScoreCalibration => ({
  falseMatchRate: (score) => Math.max(...calibrations.map((c) => c.falseMatchRate(score))),
  scoreForFalseMatchRate: (fmr) => Math.max(...calibrations.map((c) => c.scoreForFalseMatchRate(fmr))),
});

/** The calibration the region decides with: the template matcher's, the most pessimistic of the
 *  sensors measured (a calibration is a property of a sensor and its capture conditions, not of
 *  the matcher alone: docs/biometrics.md, "Impostor tail"). */
export const deployedScoreCalibration: ScoreCalibration = pessimisticCalibration(palmTemplateScoreCalibration, simulatedSensorScoreCalibration);

/** The channels every fit above scored: a probe with fewer (no NIR) has a wider impostor
 *  distribution (iitd-touchless, visible only: impostor median 0.595 against 0.556), so the
 *  deployed calibration would understate its false matches. */
export const CALIBRATED_CHANNELS: readonly TemplateChannel[] = ["surface", "veins"];

/**
 * A rule known only by one accept threshold (a plain cosine rule in tests): everything at or
 * above it is a match at any N, everything below never. The policy then decides exactly as that
 * threshold would, with no grey zone.
 */
export const fixedThresholdCalibration = (accept: number): ScoreCalibration => ({
  falseMatchRate: (score) => (score >= accept ? 0 : 1),
  scoreForFalseMatchRate: (fmr) => (fmr >= 1 ? -1 : accept),
});
