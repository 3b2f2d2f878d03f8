// Presentation-attack detection metrics in ISO/IEC 30107-3 terms, for a liveness score where a
// presentation is classified bona fide when score >= threshold.

/** Attack presentation classification error rate: attacks classified as bona fide. */
export const apcer = (attackScores: readonly number[], threshold: number): number =>
  attackScores.length === 0 ? 0 : attackScores.filter((s) => s >= threshold).length / attackScores.length;

/** Bona fide presentation classification error rate: bona fide presentations classified as attacks. */
export const bpcer = (bonaFideScores: readonly number[], threshold: number): number =>
  bonaFideScores.length === 0 ? 0 : bonaFideScores.filter((s) => s < threshold).length / bonaFideScores.length;

/** The highest threshold whose BPCER does not exceed `target` (attacks are then rejected most). */
export const thresholdAtBpcer = (bonaFideScores: readonly number[], target: number): number => {
  const sorted = [...bonaFideScores].sort((a, b) => a - b);
  const allowed = Math.floor(target * sorted.length);
  return sorted[allowed] ?? Infinity;
};
