// How the region scores a candidate against a probe and when it accepts: by default the
// calibrated two-stage rule from the evaluation (docs/biometrics.md): a cosine shortlist on the
// full signature, then the finer comparison (small shifts, rotations and scalings of the spatial
// code) for those that pass it. A plain cosine rule remains for signatures without that layout.
import { FINE_MATCH_THRESHOLD, FINE_SHORTLIST_THRESHOLD, finePalmScore } from "../../core/fine-palm-comparison.ts";
import { MATCH_THRESHOLD } from "../../core/match-threshold.ts";
import { similarity, type PalmSignature } from "../../core/palm-signature.ts";
import type { PalmProbe, PalmTemplate } from "../../core/palm-template.ts";
import { matchPrepared, PALM_TEMPLATE_MATCHING, prepareProbe, type PreparedProbe } from "../../core/palm-template-matching.ts";

export interface MatchRule {
  /** Scores at or above this are the same palm. */
  readonly accept: number;
  /** A pair whose cosine is below this can never reach `accept`: no need to read its template. */
  readonly cosineFloor: number;
  score(probe: PalmSignature, template: PalmSignature): number;
}

export const twoStageMatchRule: MatchRule = {
  accept: FINE_MATCH_THRESHOLD,
  cosineFloor: FINE_SHORTLIST_THRESHOLD,
  score(probe, template) {
    const cosine = similarity(probe, template);
    // Below the shortlist a pair is rejected outright; its cosine is already under `accept`.
    return cosine < FINE_SHORTLIST_THRESHOLD ? cosine : finePalmScore(probe, template);
  },
};

export const cosineMatchRule = (accept: number = MATCH_THRESHOLD): MatchRule => ({ accept, cosineFloor: accept, score: similarity });

/**
 * The template rule (issue 13; docs/biometrics.md): the probe (its template and the variants the
 * scanner coded at small turns and scalings) against a stored template, with the shift search of
 * PALM_TEMPLATE_MATCHING. What a score means in false-match odds is palmTemplateScoreCalibration
 * (core/score-calibration.ts). Prepare a probe once per identification, then score each
 * short-listed candidate.
 */
export const prepareTemplateProbe = (probe: PalmProbe): PreparedProbe => prepareProbe(probe, PALM_TEMPLATE_MATCHING.maxShift);

export const templateMatchScore = (probe: PreparedProbe, stored: PalmTemplate): number => matchPrepared(probe, stored, PALM_TEMPLATE_MATCHING);
