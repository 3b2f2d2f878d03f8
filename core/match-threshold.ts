// The decision threshold on signature cosine similarity: two signatures are the same palm when
// similarity >= MATCH_THRESHOLD.
//
// Calibrated for a false-match rate of 1e-4 per comparison on synthetic palms whose seeds were
// never used to tune anything: `npm run eval -- --synthetic 2000 --captures 6` (two-channel
// full-hand frames, 69,927,505 impostor comparisons, occlusion-robust localiser) put the 1e-4
// operating point at 0.4478; rounded up. Recalibrate with that command whenever the model,
// localiser or sensor changes (docs/biometrics.md). The finer second comparison of short-listed
// candidates has its own threshold (core/fine-palm-comparison.ts).
export const MATCH_THRESHOLD = 0.45;

/** The false-match rate per comparison that MATCH_THRESHOLD was calibrated for. */
export const MATCH_THRESHOLD_TARGET_FMR = 1e-4;
