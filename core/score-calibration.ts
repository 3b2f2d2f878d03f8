// How a match score translates into impostor odds: the one place that knows the score's scale.
// The identification policy (core/identification-policy.ts) reasons only in false-match rates,
// so a new matcher with another scale needs only a new calibration here.
//
// `deployedScoreCalibration` is the calibration of the matcher the region runs; the identifier,
// the demo and the flow tests take it from here, so replacing the matcher means replacing it.
// PROVISIONAL: today it is fitted to two figures in docs/biometrics.md for
// today's two-stage score (cosine shortlist, then finePalmScore): the impostor median 0.073 and
// the FMR 1e-4 operating point 0.5278 of `npm run eval -- --synthetic 2000 --captures 6`
// (69,927,505 impostor pairs). A Gaussian tail through those two points (mean 0.073, sigma
// 0.1223) is an assumption, not a measurement, below 1e-5: the eval cannot resolve smaller
// rates. It is conservative against the one deeper figure we have (the checkout bench's
// real-vs-synthetic pairs passed 0.53 at a few in 10 million, the Gaussian says 3e-5), so it
// errs towards step-ups rather than false accepts. The biometrics lead replaces it with the
// calibration of the new matcher, fitted on measured impostor tails.
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

/** The deployed matcher's calibration: provisionally the two-stage score's (see the header for where the figures come from). */
export const deployedScoreCalibration: ScoreCalibration = gaussianTailCalibration(0.073, (0.5278 - 0.073) / 3.719);

/**
 * A rule known only by one accept threshold (a plain cosine rule in tests): everything at or
 * above it is a match at any N, everything below never. The policy then decides exactly as that
 * threshold would, with no grey zone.
 */
export const fixedThresholdCalibration = (accept: number): ScoreCalibration => ({
  falseMatchRate: (score) => (score >= accept ? 0 : 1),
  scoreForFalseMatchRate: (fmr) => (fmr >= 1 ? -1 : accept),
});
