// Decides who a palm belongs to, and whether a new palm may enroll.
//
// Identification: scatter the probe's vector (core/palm-template-vector.ts) to every shard,
// gather the best candidates by the index's own score, then score those few with the template
// matcher (core/palm-template-matching.ts: shift search, the probe's turned and scaled variants)
// against their templates read from the registry, and let the identification policy decide for
// the number of live identities (core/identification-policy.ts): match, no-match, or a step-up
// among the close candidates. The registry read also drops any candidate that is no longer live.
// Enrollment: the captures that agree form the enrollment and their medoid's template is stored
// (core/palm-enrollment.ts); the same policy decides whether it is already enrolled: clearly the
// same palm is refused, clearly nobody is enrolled, and between, the caller's `sameAs` (the
// newcomer's phone against the candidates', cloud/sagas/kiosk-enrollments.ts) decides.
// Enrollments run one at a time, so two kiosks enrolling the same palm at once cannot both pass
// the duplicate check. The duplicate check is not an identification: it neither counts in the
// identification metrics nor marks anyone as seen.
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
import {
  enrollmentAgreementScore,
  IdentificationPolicy,
  type DuplicateOutcome,
  type IdentificationOutcome,
  type ScoredCandidate,
  type StepUpCandidates,
} from "../../core/identification-policy.ts";
import { chooseEnrollmentCapture, type EnrollmentCapture } from "../../core/palm-enrollment.ts";
import { matchPrepared, PALM_TEMPLATE_MATCHING, prepareProbe } from "../../core/palm-template-matching.ts";
import type { PalmProbe } from "../../core/palm-template.ts";
import { CALIBRATED_CHANNELS, deployedScoreCalibration } from "../../core/score-calibration.ts";
import { Data, Effect, Semaphore } from "effect";
import type { IdentityProfileFields } from "../identity/identity-fields.ts";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { RegistryFollower } from "../shards/registry-follower.ts";
import type { ShardSet } from "../shards/shard-set.ts";
import type { ResyncHold } from "../replication/resync-hold.ts";

/** Candidates the template matcher scores per identification (docs/architecture.md, "Identification at scale"). */
export const RERANK_CANDIDATES = 32;

export type IdentificationDecision =
  | { readonly outcome: "match"; readonly identityId: IdentityId }
  | { readonly outcome: "no-match" }
  | { readonly outcome: "step-up"; readonly stepUp: StepUpCandidates };

/** An enrollment withdrawn by its caller before anything was committed. */
export class EnrollmentWithdrawn extends Data.TaggedError("EnrollmentWithdrawn")<Record<never, never>> {
  override get message() {
    return "the enrollment was withdrawn before it was stored";
  }
}

/** Whether a newcomer in the grey zone is one of the close candidates (enrollment's step-up). */
export type SameAsCandidate = (stepUp: StepUpCandidates) => boolean;

export class PalmIdentifier {
  readonly #registry: IdentityRegistryShape;
  readonly #shards: ShardSet;
  readonly #index: RegistryFollower;
  readonly policy: IdentificationPolicy;
  readonly #now: () => number;
  readonly #candidates: number;
  readonly #observe: (outcome: IdentificationDecision["outcome"], seconds: number) => void;
  readonly #resync: ResyncHold | undefined;
  /** One enrollment at a time, from the duplicate check until the index holds the new palm. */
  readonly #enrolling = Semaphore.makeUnsafe(1);

  /** Without a `policy`, the deployed calibration decides at the default target FPIR. */
  constructor(options: {
    registry: IdentityRegistryShape;
    shards: ShardSet;
    /** The shards' follower of the registry: an enrollment answers once the index holds it. */
    index: RegistryFollower;
    now: () => number;
    policy?: IdentificationPolicy;
    candidates?: number;
    /** Told of every identification's outcome and cloud-side latency (metrics). */
    observe?: (outcome: IdentificationDecision["outcome"], seconds: number) => void;
    /** While held (a region restored from a backup, not yet re-synced), no palm is decided on. */
    resync?: ResyncHold;
  }) {
    this.#resync = options.resync;
    this.#observe = options.observe ?? (() => {});
    this.#registry = options.registry;
    this.#shards = options.shards;
    this.#index = options.index;
    this.#now = options.now;
    this.#candidates = options.candidates ?? RERANK_CANDIDATES;
    this.policy = options.policy ?? new IdentificationPolicy({ calibration: deployedScoreCalibration });
  }

  async identify(probe: PalmProbe): Promise<IdentificationDecision> {
    this.#resync?.check();
    const started = performance.now();
    const outcome = this.policy.decide(await this.#scored(probe), this.#enrolled());
    const decision = this.#typed(outcome);
    if (decision.outcome === "match") await Effect.runPromise(this.#registry.recordSeen(decision.identityId, this.#now()));
    this.#observe(decision.outcome, (performance.now() - started) / 1000);
    return decision;
  }

  /**
   * The duplicate check enrollment makes before its other steps (phone, card): the same decision
   * `enroll` makes again when it persists. Not an identification: no last-seen, no metrics.
   */
  async checkDuplicate(captures: readonly PalmProbe[], sameAs?: SameAsCandidate): Promise<{ duplicate: boolean }> {
    this.#resync?.check();
    const chosen = this.#enrollmentCapture(captures);
    return { duplicate: this.#isDuplicate(this.policy.checkDuplicate(await this.#scored(chosen.probe), this.#enrolled()), sameAs) };
  }

  /**
   * A person confirmed as this identity by a step-up: a use like a match, so it keeps the
   * identity alive (expiry). The identification itself was counted when it asked for the step-up.
   */
  recordStepUpConfirmed(identityId: string): Promise<void> {
    return Effect.runPromise(this.#registry.recordSeen(identityId, this.#now()));
  }

  /** The closest live identity by the template matcher among the index's best candidates, matching or not. */
  async closest(probe: PalmProbe): Promise<{ identityId: IdentityId; score: number } | undefined> {
    const [best] = await this.#scored(probe);
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

  /** The index's candidates that are still live, scored by the template matcher, best first. */
  async #scored(probe: PalmProbe): Promise<ScoredCandidate[]> {
    const channels = probe[0]!.channels;
    if (channels.join() !== CALIBRATED_CHANNELS.join()) {
      throw new InvalidSignature({
        reason: `the region decides on probes of both channels (${CALIBRATED_CHANNELS.join(" and ")}); this one has ${channels.join(" and ")} only`,
      });
    }
    const candidates = await this.#shards.search(probe[0]!, this.#candidates);
    const prepared = prepareProbe(probe, PALM_TEMPLATE_MATCHING.maxShift);
    const scored: ScoredCandidate[] = [];
    try {
      for (const { identityId, template } of await Effect.runPromise(this.#registry.templatesOf(candidates.map((c) => c.identityId)))) {
        scored.push({ identityId, score: matchPrepared(prepared, template, PALM_TEMPLATE_MATCHING) });
        template.words.fill(0);
      }
    } finally {
      for (const rows of prepared.shifted) rows.fill(0);
    }
    return scored.sort((a, b) => b.score - a.score);
  }

  /**
   * Enrolls the palm with its profile (card, phone, loyalty card) in one registry commit, then
   * waits for the index to follow: a crash between leaves a record the next start indexes, never
   * an index entry without a record, nor a palm without its card.
   */
  enroll(
    captures: readonly PalmProbe[],
    options: { sameAs?: SameAsCandidate; profile?: IdentityProfileFields; signal?: AbortSignal } = {},
  ): Promise<IdentityId> {
    return Effect.runPromise(this.#enrolling.withPermits(1)(Effect.promise(() => this.#enrollNow(captures, options))));
  }

  /**
   * `signal` withdraws an enrollment that has not committed yet (its caller gave up waiting, e.g.
   * behind other enrollments): once the commit has begun it stands, and the caller gets its id.
   */
  async #enrollNow(
    captures: readonly PalmProbe[],
    { sameAs, profile, signal }: { sameAs?: SameAsCandidate; profile?: IdentityProfileFields; signal?: AbortSignal },
  ): Promise<IdentityId> {
    // Read again after each wait: the signal may be aborted meanwhile.
    const withdrawn = () => signal?.aborted === true;
    if (withdrawn()) throw new EnrollmentWithdrawn();
    this.#resync?.check();
    const chosen = this.#enrollmentCapture(captures);
    const scored = await this.#scored(chosen.probe);
    if (withdrawn()) throw new EnrollmentWithdrawn();
    if (this.#isDuplicate(this.policy.checkDuplicate(scored, this.#enrolled()), sameAs)) {
      // Cloud-side only (logs, tests): the wire answer says "already-enrolled" and nothing more.
      throw new AlreadyEnrolled({ identityId: scored[0]!.identityId, score: scored[0]!.score });
    }
    const identityId = newIdentityId();
    const change = await Effect.runPromise(
      this.#registry.enroll([{ identityId, template: chosen.template, ...(profile !== undefined ? { profile } : {}) }], this.#now()),
    );
    await this.#index.reached(change.seq);
    return identityId;
  }

  /** Which capture an enrollment stores (core/palm-enrollment.ts); captures agree at the policy's calibration. */
  #enrollmentCapture(captures: readonly PalmProbe[]): EnrollmentCapture {
    return chooseEnrollmentCapture(captures, enrollmentAgreementScore(this.policy.calibration), PALM_TEMPLATE_MATCHING);
  }
}
