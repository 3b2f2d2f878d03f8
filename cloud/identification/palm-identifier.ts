// Decides who a palm belongs to, and whether a new palm may enroll.
//
// Identification: scatter the probe to every shard, gather the best candidates by the index's own
// (possibly approximate) score, then re-rank those few against their full templates read from
// the registry with the match rule (match-rule.ts: cosine shortlist, then the finer comparison),
// and let the identification policy decide for the number of live identities
// (core/identification-policy.ts): match, no-match, or a step-up among the close candidates. The
// registry read also drops any candidate that is no longer live.
// Enrollment: at least three captures must agree with each other (one hand, not several), their
// mean becomes the template, and the same policy decides whether it is already enrolled: clearly
// the same palm is refused, clearly nobody is enrolled, and between, the caller's `sameAs` (the
// newcomer's phone against the candidates', cloud/sagas/enrollment-desk.ts) decides.
// Enrollments run one at a time, so two kiosks enrolling the same palm at once cannot both pass
// the duplicate check. The duplicate check is not an identification: it neither counts in the
// identification metrics nor marks anyone as seen.
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
import { IdentificationPolicy, type DuplicateOutcome, type IdentificationOutcome, type ScoredCandidate, type StepUpCandidates } from "../../core/identification-policy.ts";
import { averageSignatures, type PalmSignature } from "../../core/palm-signature.ts";
import type { IdentityRegistry } from "../registry/identity-registry.ts";
import { scoresBoundCosine } from "../shards/index-layout.ts";
import type { ShardSet } from "../shards/shard-set.ts";
import { cosineMatchRule, twoStageMatchRule, type MatchRule } from "./match-rule.ts";

export const MIN_ENROLLMENT_CAPTURES = 3;
/** Candidates re-ranked exactly per identification (see docs/architecture.md for the measurement). */
export const RERANK_CANDIDATES = 16;
/** Float rounding between an index's score and the exact cosine it bounds. */
const INDEX_SCORE_SLACK = 0.01;

export type IdentificationDecision =
  | { readonly outcome: "match"; readonly identityId: IdentityId }
  | { readonly outcome: "no-match" }
  | { readonly outcome: "step-up"; readonly stepUp: StepUpCandidates };

/** Whether a newcomer in the grey zone is one of the close candidates (enrollment's step-up). */
export type SameAsCandidate = (stepUp: StepUpCandidates) => boolean;

export class PalmIdentifier {
  readonly #registry: IdentityRegistry;
  readonly #shards: ShardSet;
  readonly #rule: MatchRule;
  readonly policy: IdentificationPolicy;
  readonly #now: () => number;
  readonly #candidates: number;
  readonly #observe: (outcome: IdentificationDecision["outcome"], seconds: number) => void;
  #enrolling: Promise<unknown> = Promise.resolve();

  /**
   * `threshold` alone selects a plain cosine rule (for signatures without the model's layout).
   * Without a `policy`, the rule's own calibration decides (match-rule.ts).
   */
  constructor(options: {
    registry: IdentityRegistry;
    shards: ShardSet;
    now: () => number;
    rule?: MatchRule;
    threshold?: number;
    policy?: IdentificationPolicy;
    candidates?: number;
    /** Told of every identification's outcome and cloud-side latency (metrics). */
    observe?: (outcome: IdentificationDecision["outcome"], seconds: number) => void;
  }) {
    this.#observe = options.observe ?? (() => {});
    this.#registry = options.registry;
    this.#shards = options.shards;
    this.#now = options.now;
    this.#rule = options.rule ?? (options.threshold !== undefined ? cosineMatchRule(options.threshold) : twoStageMatchRule);
    this.#candidates = options.candidates ?? RERANK_CANDIDATES;
    this.policy = options.policy ?? new IdentificationPolicy({ calibration: this.#rule.calibration });
  }

  async identify(probe: PalmSignature): Promise<IdentificationDecision> {
    const started = performance.now();
    const outcome = this.policy.decide(await this.#scored(probe, true), this.#enrolled());
    const decision = this.#typed(outcome);
    if (decision.outcome === "match") this.#registry.recordSeen(decision.identityId, this.#now());
    this.#observe(decision.outcome, (performance.now() - started) / 1000);
    return decision;
  }

  /**
   * The duplicate check enrollment makes before its other steps (phone, card): the same decision
   * `enroll` makes again when it persists. Not an identification: no last-seen, no metrics.
   */
  async checkDuplicate(captures: readonly PalmSignature[], sameAs?: SameAsCandidate): Promise<{ duplicate: boolean }> {
    const template = this.#enrollmentTemplate(captures);
    try {
      return { duplicate: this.#isDuplicate(this.policy.checkDuplicate(await this.#scored(template, true), this.#enrolled()), sameAs) };
    } finally {
      template.fill(0);
    }
  }

  /**
   * A person confirmed as this identity by a step-up: a use like a match, so it keeps the
   * identity alive (expiry). The identification itself was counted when it asked for the step-up.
   */
  recordStepUpConfirmed(identityId: string): void {
    this.#registry.recordSeen(identityId as IdentityId, this.#now());
  }

  /** The closest live identity by the match rule among the index's best candidates, matching or not. */
  async closest(probe: PalmSignature): Promise<{ identityId: IdentityId; score: number } | undefined> {
    const [best] = await this.#scored(probe, false);
    return best === undefined ? undefined : { identityId: best.identityId as IdentityId, score: best.score };
  }

  /** N for the policy: the identities in the index (live ones; a deletion removes its entry). */
  #enrolled(): number {
    return this.#shards.size;
  }

  #typed(outcome: IdentificationOutcome): IdentificationDecision {
    return outcome.outcome === "match" ? { outcome: "match", identityId: outcome.identityId as IdentityId } : outcome;
  }

  #isDuplicate(outcome: DuplicateOutcome, sameAs: SameAsCandidate | undefined): boolean {
    if (outcome.outcome === "duplicate") return true;
    if (outcome.outcome === "new") return false;
    // Resembling someone is not being them: without a way to tell (no phone), the newcomer enrolls.
    return sameAs?.(outcome.stepUp) ?? false;
  }

  /**
   * The live candidates re-scored by the match rule, best first. `decisionOnly`: the policy only
   * looks at candidates that reach its thresholds, all above the rule's cosine floor, so
   * candidates that cannot reach it are not read. Where the index's score bounds the cosine from
   * above (an exact index, or L2 after an orthonormal projection: index-layout.ts), a candidate
   * scoring under that floor can never count; reading and decrypting its template (most of the
   * short list, for a palm that is enrolled) would be wasted.
   */
  async #scored(probe: PalmSignature, decisionOnly: boolean): Promise<ScoredCandidate[]> {
    const candidates = await this.#shards.search(probe, this.#candidates);
    const prune = decisionOnly && scoresBoundCosine(this.#shards.layout);
    const read = prune ? candidates.filter((c) => c.score >= this.#rule.cosineFloor - INDEX_SCORE_SLACK) : candidates;
    const scored: ScoredCandidate[] = [];
    for (const { identityId, template } of this.#registry.templatesOf(read.map((c) => c.identityId))) {
      scored.push({ identityId, score: this.#rule.score(probe, template) });
      template.fill(0);
    }
    return scored.sort((a, b) => b.score - a.score);
  }

  /**
   * Registry first, index second: a crash between the two leaves a registry record that the
   * next start indexes, never an index entry without a record.
   */
  enroll(captures: readonly PalmSignature[], sameAs?: SameAsCandidate): Promise<IdentityId> {
    const next = this.#enrolling.then(() => this.#enrollNow(captures, sameAs));
    this.#enrolling = next.catch(() => undefined);
    return next;
  }

  async #enrollNow(captures: readonly PalmSignature[], sameAs: SameAsCandidate | undefined): Promise<IdentityId> {
    const template = this.#enrollmentTemplate(captures);
    const scored = await this.#scored(template, true);
    if (this.#isDuplicate(this.policy.checkDuplicate(scored, this.#enrolled()), sameAs)) {
      // Cloud-side only (logs, tests): the wire answer says "already-enrolled" and nothing more.
      throw new AlreadyEnrolled({ identityId: scored[0]!.identityId, score: scored[0]!.score });
    }
    const identityId = newIdentityId();
    this.#registry.enroll(identityId, template, this.#now());
    await this.#shards.add([{ identityId, template }]);
    return identityId;
  }

  /** The template an enrollment stores: the mean of the largest set of captures that agree. */
  #enrollmentTemplate(captures: readonly PalmSignature[]): PalmSignature {
    if (captures.length < MIN_ENROLLMENT_CAPTURES) {
      throw new InvalidSignature({ reason: `enrollment needs ${MIN_ENROLLMENT_CAPTURES} captures, got ${captures.length}` });
    }
    const agreeing = this.#largestAgreeingSet(captures);
    if (agreeing.length < MIN_ENROLLMENT_CAPTURES) {
      throw new InvalidSignature({ reason: "the captures do not show the same palm" });
    }
    return averageSignatures(agreeing);
  }

  /**
   * The largest set of captures that all match each other, best-agreeing first on ties. One
   * blurred or half-covered capture is left out instead of failing the enrollment; captures of
   * two different hands never form a set of three.
   */
  #largestAgreeingSet(captures: readonly PalmSignature[]): PalmSignature[] {
    const n = captures.length;
    const pair = captures.map((a) => captures.map((b) => this.#rule.score(a, b)));
    let best: number[] = [];
    let bestScore = -Infinity;
    // Enrollment sends a handful of captures (the wire caps it at 10), so every subset is cheap.
    for (let mask = 1; mask < 1 << n; mask++) {
      const members = [...Array(n).keys()].filter((i) => mask & (1 << i));
      if (members.length < best.length) continue;
      let total = 0;
      let agrees = true;
      for (let x = 0; x < members.length && agrees; x++) {
        for (let y = x + 1; y < members.length; y++) {
          const score = pair[members[x]!]![members[y]!]!;
          if (score < this.#rule.accept) {
            agrees = false;
            break;
          }
          total += score;
        }
      }
      if (!agrees) continue;
      if (members.length > best.length || total > bestScore) [best, bestScore] = [members, total];
    }
    return best.map((i) => captures[i]!);
  }
}
