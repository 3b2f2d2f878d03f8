// Biometric accuracy metrics (ISO/IEC 19795-1 terms) over similarity scores, where a comparison
// is a match when score >= threshold. Pure functions; scores arrive as typed arrays because an
// all-vs-all evaluation produces tens of millions of impostor scores.

export type Scores = Float32Array | Float64Array;

/** Sorts a copy ascending. */
export const sortedScores = (scores: Scores | readonly number[]): Float64Array => Float64Array.from(scores).sort();

/** Count of sorted values strictly below t (binary search). */
const countBelow = (sorted: Scores, t: number): number => {
  let lo = 0,
    hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** False-match rate at threshold t: share of impostor scores >= t. */
export const falseMatchRate = (impostorsAscending: Scores, t: number): number =>
  impostorsAscending.length === 0 ? 0 : (impostorsAscending.length - countBelow(impostorsAscending, t)) / impostorsAscending.length;

/** False-non-match rate at threshold t: share of genuine scores < t. */
export const falseNonMatchRate = (genuineAscending: Scores, t: number): number =>
  genuineAscending.length === 0 ? 0 : countBelow(genuineAscending, t) / genuineAscending.length;

/**
 * The lowest threshold whose false-match rate does not exceed `fmr`, with the false-non-match
 * rate there. With k = floor(fmr * impostors) allowed false matches, the threshold sits just
 * above the (k+1)-th highest impostor score.
 */
export const operatingPointAtFmr = (genuineAscending: Scores, impostorsAscending: Scores, fmr: number): { threshold: number; fmr: number; fnmr: number } => {
  const n = impostorsAscending.length;
  const allowed = Math.floor(fmr * n);
  if (allowed >= n) return { threshold: -Infinity, fmr: 1, fnmr: 0 };
  const pivot = impostorsAscending[n - 1 - allowed]!;
  // Smallest float64 above the pivot: impostors equal to it become non-matches.
  const threshold = nextAbove(pivot);
  return { threshold, fmr: falseMatchRate(impostorsAscending, threshold), fnmr: falseNonMatchRate(genuineAscending, threshold) };
};

/** Impostor comparisons needed per unit of 1/FMR before an operating point at that FMR is
 *  reported: with fewer than 3 / FMR impostor pairs, at most two impostor scores may lie above the
 *  threshold, and the point rests on the one or two highest impostor scores alone. */
export const IMPOSTORS_PER_INVERSE_FMR = 3;

/** `operatingPointAtFmr`, or null when there are too few impostor comparisons to resolve `fmr`
 *  (fewer than IMPOSTORS_PER_INVERSE_FMR / fmr) or no genuine ones. */
export const resolvedOperatingPointAtFmr = (
  genuineAscending: Scores,
  impostorsAscending: Scores,
  fmr: number,
): { threshold: number; fmr: number; fnmr: number } | null =>
  genuineAscending.length === 0 || impostorsAscending.length * fmr < IMPOSTORS_PER_INVERSE_FMR
    ? null
    : operatingPointAtFmr(genuineAscending, impostorsAscending, fmr);

const nextAbove = (x: number): number => {
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
};

/**
 * Equal error rate: the FMR and FNMR curves are evaluated at every distinct score used as a
 * threshold; where they cross, the EER is the mean of the two rates at the threshold that brings
 * them closest.
 */
export const equalErrorRate = (genuineAscending: Scores, impostorsAscending: Scores): { eer: number; threshold: number } => {
  const candidates = [...new Set([...sampleThresholds(genuineAscending), ...sampleThresholds(impostorsAscending)])].sort((a, b) => a - b);
  let best = { gap: Infinity, eer: 1, threshold: 0 };
  for (const t of candidates) {
    const a = falseMatchRate(impostorsAscending, t),
      b = falseNonMatchRate(genuineAscending, t);
    const gap = Math.abs(a - b);
    if (gap < best.gap || (gap === best.gap && (a + b) / 2 < best.eer)) best = { gap, eer: (a + b) / 2, threshold: t };
  }
  return { eer: best.eer, threshold: best.threshold };
};

/** Every score when there are few; otherwise every score near the crossing region plus a grid. */
const sampleThresholds = (sorted: Scores): number[] => {
  if (sorted.length <= 20_000) return Array.from(sorted);
  const out: number[] = [];
  const step = Math.ceil(sorted.length / 20_000);
  for (let i = 0; i < sorted.length; i += step) out.push(sorted[i]!);
  out.push(sorted[sorted.length - 1]!);
  // The upper impostor tail / lower genuine tail is where the EER lives: keep it exactly.
  for (let i = Math.max(0, sorted.length - 20_000); i < sorted.length; i++) out.push(sorted[i]!);
  for (let i = 0; i < Math.min(sorted.length, 20_000); i++) out.push(sorted[i]!);
  return out;
};

const moments = (s: Scores): { mean: number; variance: number } => {
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  const mean = sum / s.length;
  let sq = 0;
  for (let i = 0; i < s.length; i++) sq += (s[i]! - mean) ** 2;
  return { mean, variance: sq / s.length };
};

/** Decidability index: separation of the two score distributions in pooled standard deviations. */
export const dPrime = (genuine: Scores, impostors: Scores): number => {
  const g = moments(genuine),
    i = moments(impostors);
  return Math.abs(g.mean - i.mean) / Math.sqrt((g.variance + i.variance) / 2);
};

/** Points (fmr, fnmr) of the detection-error trade-off curve, at thresholds spread over the scores. */
export const detCurve = (genuineAscending: Scores, impostorsAscending: Scores, points = 400): { fmr: number; fnmr: number }[] => {
  const lo = Math.min(genuineAscending[0] ?? 0, impostorsAscending[0] ?? 0);
  const hi = Math.max(genuineAscending[genuineAscending.length - 1] ?? 1, impostorsAscending[impostorsAscending.length - 1] ?? 1);
  const out: { fmr: number; fnmr: number }[] = [];
  for (let k = 0; k <= points; k++) {
    const t = lo + ((hi - lo) * k) / points;
    out.push({ fmr: falseMatchRate(impostorsAscending, t), fnmr: falseNonMatchRate(genuineAscending, t) });
  }
  return out;
};
