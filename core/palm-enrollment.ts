// Enrollment's rule: from a handful of captures of one palm (each a PalmProbe, as a scanner sends
// it) to the one template the region stores. The captures that agree with each other form the
// enrollment (one hand, not several: captures of two hands never form a set of MIN_ENROLLMENT_
// CAPTURES); a blurred or half-covered capture is left out instead of failing it. Of the agreeing
// captures, the one closest to all the others (the medoid) is kept: its probe is what the
// duplicate check searches with, its unturned template (variant 0) is what is stored. A mean of
// orientation codes is not a code, so no average is taken.
import { InvalidSignature } from "./errors.ts";
import { matchPrepared, prepareProbe, type TemplateMatchOptions } from "./palm-template-matching.ts";
import type { PalmProbe, PalmTemplate } from "./palm-template.ts";

export const MIN_ENROLLMENT_CAPTURES = 3;

/** Two captures agree when their score would falsely match at most this often between two people. */
export const ENROLLMENT_AGREEMENT_FMR = 1e-4;

export interface EnrollmentCapture {
  /** The medoid capture's probe (all its variants): what the duplicate check searches with. */
  readonly probe: PalmProbe;
  /** Its variant 0: the template the registry stores. */
  readonly template: PalmTemplate;
  /** How many captures agreed (the medoid included). */
  readonly agreeing: number;
}

/**
 * The medoid of the largest set of captures that all agree pairwise (score >= `agreeScore`),
 * best-agreeing set first on ties. A pair's score is the better of the two directions (each
 * capture's variants against the other's template). Fails with InvalidSignature when fewer than
 * MIN_ENROLLMENT_CAPTURES were sent or agree.
 */
export const chooseEnrollmentCapture = (captures: readonly PalmProbe[], agreeScore: number, matching: TemplateMatchOptions): EnrollmentCapture => {
  const n = captures.length;
  if (n < MIN_ENROLLMENT_CAPTURES) throw new InvalidSignature({ reason: `enrollment needs ${MIN_ENROLLMENT_CAPTURES} captures, got ${n}` });
  const prepared = captures.map((c) => prepareProbe(c, matching.maxShift));
  const pair = captures.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const score = Math.max(matchPrepared(prepared[i]!, captures[j]![0]!, matching), matchPrepared(prepared[j]!, captures[i]![0]!, matching));
      pair[i]![j] = pair[j]![i] = score;
    }
  }
  let best: number[] = [];
  let bestTotal = -Infinity;
  // Enrollment sends a handful of captures (the wire caps it at 10), so every subset is cheap.
  for (let mask = 1; mask < 1 << n; mask++) {
    const members = [...Array(n).keys()].filter((i) => mask & (1 << i));
    if (members.length < best.length) continue;
    let total = 0;
    let agrees = true;
    for (let x = 0; x < members.length && agrees; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const score = pair[members[x]!]![members[y]!]!;
        if (score < agreeScore) {
          agrees = false;
          break;
        }
        total += score;
      }
    }
    if (agrees && (members.length > best.length || total > bestTotal)) [best, bestTotal] = [members, total];
  }
  if (best.length < MIN_ENROLLMENT_CAPTURES) throw new InvalidSignature({ reason: "the captures do not show the same palm" });
  const closeness = (i: number) => best.reduce((sum, j) => sum + (i === j ? 0 : pair[i]![j]!), 0);
  const medoid = best.reduce((m, i) => (closeness(i) > closeness(m) ? i : m), best[0]!);
  return { probe: captures[medoid]!, template: captures[medoid]![0]!, agreeing: best.length };
};
