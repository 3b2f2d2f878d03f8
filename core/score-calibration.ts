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

/** Standard normal upper tail Q(z) = P(Z >= z). */
const upperTail = (z: number): number => 0.5 * erfc(z / Math.SQRT2);

/** z with Q(z) = p, for 0 < p < 1 (bisection; Q is decreasing). */
const upperTailInverse = (p: number): number => {
  let lo = -40, hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (upperTail(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
};

/** The palm template matcher's impostor model (core/palm-template-matching.ts): at one alignment an
 *  impostor's similarity is a mean of many nearly independent cell agreements, so close to normal
 *  (mean, sigma); the matcher keeps the best of its alignments (shifts, probe variants), which act
 *  like `alignments` independent draws. P(best >= s) = 1 - (1 - Q((s - mean) / sigma))^alignments. */
export interface BestOfAlignmentsTail {
  readonly mean: number;
  readonly sigma: number;
  readonly alignments: number;
}

export const bestOfAlignmentsCalibration = (tail: BestOfAlignmentsTail): ScoreCalibration => {
  const falseMatchRate = (score: number) => {
    const q = upperTail((score - tail.mean) / tail.sigma);
    // 1 - (1 - q)^K without cancellation for tiny q.
    return -Math.expm1(tail.alignments * Math.log1p(-Math.min(q, 1 - 1e-16)));
  };
  return {
    falseMatchRate,
    scoreForFalseMatchRate: (fmr) => {
      if (fmr >= 1) return 0;
      if (fmr <= 0) return 1;
      // Invert exactly: q = 1 - (1 - fmr)^(1/K).
      const q = -Math.expm1(Math.log1p(-fmr) / tail.alignments);
      return tail.mean + tail.sigma * upperTailInverse(q);
    },
  };
};

/** Exceedance levels (FMR) at which a fit is judged, where the data resolve them. */
const FIT_LEVELS = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6] as const;

/** The score of impostor rank k from the top (k = FMR * n), from ascending scores. */
const scoreAtExceedance = (ascending: ArrayLike<number>, fmr: number): number => ascending[Math.max(0, Math.min(ascending.length - 1, ascending.length - Math.round(fmr * ascending.length)))]!;

/**
 * Fits a BestOfAlignmentsTail to measured impostor scores (ascending): for each candidate number
 * of alignments, mean and sigma put the model's median and its 1e-2 exceedance point on the data's;
 * the number of alignments kept is the one whose deeper exceedance points (1e-3 and below, those
 * with at least 10 impostor scores above them) agree best on a log scale.
 */
export const fitBestOfAlignmentsTail = (impostorsAscending: ArrayLike<number>): BestOfAlignmentsTail => {
  const n = impostorsAscending.length;
  const median = scoreAtExceedance(impostorsAscending, 0.5), s2 = scoreAtExceedance(impostorsAscending, 1e-2);
  const deep = FIT_LEVELS.filter((f) => f < 1e-2 && f * n >= 10).map((f) => ({ f, s: scoreAtExceedance(impostorsAscending, f) }));
  let best: { tail: BestOfAlignmentsTail; error: number } | undefined;
  for (let k = 1; k <= 4096; k = Math.ceil(k * 1.25)) {
    const zMedian = upperTailInverse(-Math.expm1(Math.log1p(-0.5) / k));
    const z2 = upperTailInverse(-Math.expm1(Math.log1p(-1e-2) / k));
    const sigma = (s2 - median) / (z2 - zMedian);
    if (!(sigma > 0)) continue;
    const tail = { mean: median - sigma * zMedian, sigma, alignments: k };
    const model = bestOfAlignmentsCalibration(tail);
    const error = deep.reduce((e, { f, s }) => e + Math.log(Math.max(model.falseMatchRate(s), 1e-300) / f) ** 2, 0);
    if (best === undefined || error < best.error) best = { tail, error };
  }
  if (best === undefined) throw new RangeError("impostor scores too few or too flat to fit a tail");
  return best.tail;
};

/** The palm template matcher's calibration (PALM_TEMPLATE_MATCHING, fused channels), fitted by
 *  fitBestOfAlignmentsTail on the impostor scores of `npm run eval -- --dataset polyu-ms
 *  --sessions s1,s2 --channel fused --limit-subjects 300` (docs/biometrics.md, "Impostor tail").
 *  PROVISIONAL until that run completes. */
export const palmTemplateScoreCalibration: ScoreCalibration = bestOfAlignmentsCalibration({ mean: 0.55, sigma: 0.02, alignments: 20 });

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
