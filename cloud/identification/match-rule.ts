// How the region scores a candidate against a probe and when it accepts: by default the
// calibrated two-stage rule from the evaluation (docs/biometrics.md): a cosine shortlist on the
// full signature, then the finer comparison (small shifts, rotations and scalings of the spatial
// code) for those that pass it. A plain cosine rule remains for signatures without that layout.
import { FINE_MATCH_THRESHOLD, FINE_SHORTLIST_THRESHOLD, finePalmScore } from "../../core/fine-palm-comparison.ts";
import { MATCH_THRESHOLD } from "../../core/match-threshold.ts";
import { similarity, type PalmSignature } from "../../core/palm-signature.ts";
import { deployedScoreCalibration, fixedThresholdCalibration, type ScoreCalibration } from "../../core/score-calibration.ts";

export interface MatchRule {
  /** Scores at or above this are the same palm. */
  readonly accept: number;
  /** A pair whose cosine is below this can never reach `accept`: no need to read its template. */
  readonly cosineFloor: number;
  /** What a score means in impostor odds: the identification policy decides through it. */
  readonly calibration: ScoreCalibration;
  score(probe: PalmSignature, template: PalmSignature): number;
}

export const twoStageMatchRule: MatchRule = {
  accept: FINE_MATCH_THRESHOLD,
  cosineFloor: FINE_SHORTLIST_THRESHOLD,
  calibration: deployedScoreCalibration,
  score(probe, template) {
    const cosine = similarity(probe, template);
    // Below the shortlist a pair is rejected outright; its cosine is already under `accept`.
    return cosine < FINE_SHORTLIST_THRESHOLD ? cosine : finePalmScore(probe, template);
  },
};

/** Known only by its accept threshold: the policy decides exactly as that threshold would, with no grey zone. */
export const cosineMatchRule = (accept: number = MATCH_THRESHOLD): MatchRule => ({ accept, cosineFloor: accept, calibration: fixedThresholdCalibration(accept), score: similarity });

