// Who a palm belongs to among N enrolled people: the cloud's decision, made for N, not for one
// comparison. Pure: re-ranked candidates' scores (best first) and N in, an outcome out; it knows
// the score's scale only through the ScoreCalibration (core/score-calibration.ts).
//
//   match     the best clears the score whose false-match rate is FPIR / N (over N impostor
//             comparisons the chance that any reaches it is about FPIR), and its false-match
//             rate is at least `marginRatio` times smaller than the runner-up's.
//   no-match  the best is below the step-up floor: not even the phone digits could make
//             accepting it safe.
//   step-up   anything between (or a best that fails the margin): the scanner asks for the last
//             four digits of the person's phone, and the cloud accepts only if they match
//             exactly one of the close candidates and that one clears the floor.
//
// The floor. A stranger is accepted through a step-up only if (a) some enrolled palm scores
// above the floor against theirs (probability about N * FMR(floor)), and (b) the digits they type
// are that person's. Someone who does not know whose palm they resemble guesses: each attempt
// matches a given candidate with probability 1/10^4 (`digitSpace`), at most `maxCandidates`
// candidates can be above the floor and `attempts` tries are allowed, so (b) is at most
// k * A / 10^4. Keeping the step-up path's FPIR within the target:
//     N * FMR(floor) * k * A / 10^4 <= FPIR   =>   FMR(floor) = FPIR * 10^4 / (N * k * A).
// With FPIR 1e-4, k 5, A 3: 1/(15 N), i.e. 6.7e-7 at 100,000 enrolled against 1e-9 to match
// outright. The digits are not a secret from someone who knows the victim: against a targeted
// attempt only the palm protects, so the floor is also never looser than one-to-one verification
// at `maxStepUpFmr` (1e-4, the rate the first matcher was calibrated for).
//
// Close candidates are those within `closeFactor` (100) of the floor's false-match rate: a second
// person that close whose digits also match means the palm does not separate them, so the answer
// is refused (ambiguous). A genuine person is refused that way only when such a neighbour shares
// their last four digits (about 1 in 10^4 per neighbour).
import { ENROLLMENT_AGREEMENT_FMR } from "./palm-enrollment.ts";
import type { ScoreCalibration } from "./score-calibration.ts";

/** The score at which two captures of an enrollment agree (core/palm-enrollment.ts), under a calibration. */
export const enrollmentAgreementScore = (calibration: ScoreCalibration): number => calibration.scoreForFalseMatchRate(ENROLLMENT_AGREEMENT_FMR);

export interface ScoredCandidate {
  readonly identityId: string;
  readonly score: number;
}

export interface StepUpCandidates {
  /** Close candidates, best first, at most `maxCandidates`; never leaves the cloud. */
  readonly candidates: readonly ScoredCandidate[];
  /** The score a candidate must reach to be accepted by its digits. */
  readonly floorScore: number;
}

export type IdentificationOutcome =
  | { readonly outcome: "match"; readonly identityId: string }
  | { readonly outcome: "no-match" }
  | { readonly outcome: "step-up"; readonly stepUp: StepUpCandidates };

export type DuplicateOutcome =
  | { readonly outcome: "duplicate"; readonly identityId: string }
  | { readonly outcome: "new" }
  | { readonly outcome: "step-up"; readonly stepUp: StepUpCandidates };

export type StepUpResolution =
  | { readonly outcome: "accepted"; readonly identityId: string }
  | { readonly outcome: "refused"; readonly reason: "no-candidate" | "ambiguous" | "below-floor" };

export interface IdentificationThresholds {
  readonly acceptScore: number;
  readonly floorScore: number;
  readonly closeScore: number;
}

export interface IdentificationPolicyOptions {
  readonly calibration: ScoreCalibration;
  /** False positive identification rate per transaction the policy aims for. */
  readonly targetFpir?: number;
  /** The best candidate's FMR times this must not exceed the runner-up's. */
  readonly marginRatio?: number;
  readonly maxCandidates?: number;
  /** Digit answers the scanner may send for one step-up. */
  readonly attempts?: number;
  /** How many equally likely answers the step-up question has (4 digits: 10^4). */
  readonly digitSpace?: number;
  /** The step-up floor is never looser than one-to-one verification at this FMR. */
  readonly maxStepUpFmr?: number;
  readonly closeFactor?: number;
  /**
   * N is never taken below this: a deployment sized for many people decides for them from its
   * first day, rather than accepting weak palms while few have enrolled.
   */
  readonly minimumPopulation?: number;
}

export const DEFAULT_TARGET_FPIR = 1e-4;
export const STEP_UP_ATTEMPTS = 3;
export const STEP_UP_MAX_CANDIDATES = 5;

export class IdentificationPolicy {
  readonly calibration: ScoreCalibration;
  readonly targetFpir: number;
  readonly marginRatio: number;
  readonly maxCandidates: number;
  readonly attempts: number;
  readonly digitSpace: number;
  readonly maxStepUpFmr: number;
  readonly closeFactor: number;
  readonly minimumPopulation: number;
  /** The thresholds for the last N asked: N changes by one enrollment at a time. */
  #cached: { readonly n: number; readonly thresholds: IdentificationThresholds } | undefined;

  constructor(options: IdentificationPolicyOptions) {
    this.calibration = options.calibration;
    this.targetFpir = options.targetFpir ?? DEFAULT_TARGET_FPIR;
    this.marginRatio = options.marginRatio ?? 100;
    this.maxCandidates = options.maxCandidates ?? STEP_UP_MAX_CANDIDATES;
    this.attempts = options.attempts ?? STEP_UP_ATTEMPTS;
    this.digitSpace = options.digitSpace ?? 10_000;
    this.maxStepUpFmr = options.maxStepUpFmr ?? 1e-4;
    this.closeFactor = options.closeFactor ?? 100;
    this.minimumPopulation = options.minimumPopulation ?? 1;
    if (!(this.targetFpir > 0 && this.targetFpir < 1)) throw new RangeError(`target FPIR must be in (0, 1), got ${this.targetFpir}`);
  }

  thresholds(enrolled: number): IdentificationThresholds {
    const n = Math.max(1, enrolled, this.minimumPopulation);
    if (this.#cached?.n === n) return this.#cached.thresholds;
    const acceptFmr = this.targetFpir / n;
    const guessed = (this.targetFpir * this.digitSpace) / (n * this.maxCandidates * this.attempts);
    const floorFmr = Math.max(acceptFmr, Math.min(this.maxStepUpFmr, guessed));
    const closeFmr = Math.min(1e-2, Math.max(floorFmr, floorFmr * this.closeFactor));
    const score = this.calibration.scoreForFalseMatchRate;
    const thresholds = { acceptScore: score(acceptFmr), floorScore: score(floorFmr), closeScore: score(closeFmr) };
    this.#cached = { n, thresholds };
    return thresholds;
  }

  /** Identification: `candidates` are the re-ranked candidates (any order), `enrolled` the live N. */
  decide(candidates: readonly ScoredCandidate[], enrolled: number): IdentificationOutcome {
    const ranked = [...candidates].sort((a, b) => b.score - a.score);
    const t = this.thresholds(enrolled);
    const best = ranked[0];
    if (best === undefined || best.score < t.floorScore) return { outcome: "no-match" };
    const runnerUp = ranked[1];
    const fmr = this.calibration.falseMatchRate;
    const clearsMargin = runnerUp === undefined || fmr(best.score) * this.marginRatio <= fmr(runnerUp.score);
    if (best.score >= t.acceptScore && clearsMargin) return { outcome: "match", identityId: best.identityId };
    return { outcome: "step-up", stepUp: this.#close(ranked, t) };
  }

  /**
   * Enrollment's duplicate check, by the same thresholds: a palm that clears the match threshold
   * is someone enrolled already (two such candidates only make that surer); one below the floor is
   * new; between, the newcomer's phone decides (see cloud/sagas/kiosk-enrollments.ts).
   */
  checkDuplicate(candidates: readonly ScoredCandidate[], enrolled: number): DuplicateOutcome {
    const ranked = [...candidates].sort((a, b) => b.score - a.score);
    const t = this.thresholds(enrolled);
    const best = ranked[0];
    if (best === undefined || best.score < t.floorScore) return { outcome: "new" };
    if (best.score >= t.acceptScore) return { outcome: "duplicate", identityId: best.identityId };
    return { outcome: "step-up", stepUp: this.#close(ranked, t) };
  }

  /** Accepts the one close candidate whose phone digits match, if it clears the floor. */
  resolveStepUp(stepUp: StepUpCandidates, digitsMatch: (identityId: string) => boolean): StepUpResolution {
    const matching = stepUp.candidates.filter((c) => digitsMatch(c.identityId));
    if (matching.length === 0) return { outcome: "refused", reason: "no-candidate" };
    if (matching.length > 1) return { outcome: "refused", reason: "ambiguous" };
    const only = matching[0]!;
    if (only.score < stepUp.floorScore) return { outcome: "refused", reason: "below-floor" };
    return { outcome: "accepted", identityId: only.identityId };
  }

  #close(ranked: readonly ScoredCandidate[], t: IdentificationThresholds): StepUpCandidates {
    return { candidates: ranked.filter((c) => c.score >= t.closeScore).slice(0, this.maxCandidates), floorScore: t.floorScore };
  }
}
