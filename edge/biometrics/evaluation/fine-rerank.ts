// The two-stage decision the cloud makes, scored the way the first stage is: pairs whose index
// cosine reaches the shortlist threshold are re-scored with finePalmScore; pairs below it keep their
// cosine, which is below every re-scored value (the fine score's search includes the unmoved pose),
// so any threshold at or above the shortlist reads as "short-listed and fine score >= threshold".
import type { PalmSignature } from "../../../core/palm-signature.ts";
import { finePalmScore } from "../../../core/fine-palm-comparison.ts";
import type { ComparisonOutcome } from "./score-matrix.ts";

export interface RerankedScores {
  /** Ascending. */
  readonly genuine: Float64Array;
  /** Ascending. */
  readonly impostors: Float32Array;
  readonly rank1Hits: number;
  readonly rescored: number;
}

export const rerankWithFineScore = (
  signatures: readonly PalmSignature[],
  subjects: readonly number[],
  c: ComparisonOutcome,
  firstStageImpostorsAscending: Float32Array,
  shortlist: number,
): RerankedScores => {
  const fine = (i: number, j: number) => finePalmScore(signatures[i]!, signatures[j]!);
  let rescored = 0;
  const genuine = new Float64Array(c.genuine.length);
  for (let g = 0; g < c.genuine.length; g++) {
    const s = c.genuine[g]!;
    if (s >= shortlist) rescored++;
    genuine[g] = s >= shortlist ? fine(c.genuinePairs[2 * g]!, c.genuinePairs[2 * g + 1]!) : s;
  }
  genuine.sort();
  // Impostors below the shortlist keep their first-stage scores (the ascending prefix).
  let below = firstStageImpostorsAscending.length;
  while (below > 0 && firstStageImpostorsAscending[below - 1]! >= shortlist) below--;
  const pairs = c.shortlistedImpostorPairs;
  const impostors = new Float32Array(below + pairs.length / 2);
  impostors.set(firstStageImpostorsAscending.subarray(0, below));
  for (let p = 0; p < pairs.length / 2; p++) impostors[below + p] = fine(pairs[2 * p]!, pairs[2 * p + 1]!);
  rescored += pairs.length / 2;
  impostors.sort();
  // Closed-set identification: the first stage's best few candidates, re-ranked by fine score.
  const perSubject = new Map<number, number>();
  for (const s of subjects) perSubject.set(s, (perSubject.get(s) ?? 0) + 1);
  let rank1Hits = 0;
  for (let i = 0; i < subjects.length; i++) {
    if ((perSubject.get(subjects[i]!) ?? 0) < 2) continue;
    let best = -Infinity, bestAt = -1;
    for (let r = 0; r < c.candidates; r++) {
      const j = c.topCandidates[i * c.candidates + r]!;
      if (j < 0) break;
      const s = fine(i, j);
      rescored++;
      if (s > best) (best = s), (bestAt = j);
    }
    if (bestAt >= 0 && subjects[bestAt] === subjects[i]) rank1Hits++;
  }
  return { genuine, impostors, rank1Hits, rescored };
};
