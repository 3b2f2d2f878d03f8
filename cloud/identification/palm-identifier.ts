// Decides who a palm belongs to, and whether a new palm may enroll.
//
// Identification: scatter the probe to every shard, gather the best candidates by the index's own
// (possibly approximate) score, then re-rank those few against their full templates read from
// the registry with the match rule (match-rule.ts: cosine shortlist, then the finer comparison),
// and accept the best only if it clears the rule's calibrated threshold. The registry read also
// drops any candidate that is no longer live.
// Enrollment: at least three captures must agree with each other (one hand, not several), their
// mean becomes the template, and a palm that already matches a live identity is refused as a
// duplicate. Enrollments run one at a time, so two kiosks enrolling the same palm at once cannot
// both pass the duplicate check.
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
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
  | { readonly outcome: "match"; readonly identityId: IdentityId; readonly score: number }
  | { readonly outcome: "no-match"; readonly score: number };

export class PalmIdentifier {
  readonly #registry: IdentityRegistry;
  readonly #shards: ShardSet;
  readonly #rule: MatchRule;
  readonly #now: () => number;
  readonly #candidates: number;
  readonly #observe: (outcome: IdentificationDecision["outcome"], seconds: number) => void;
  #enrolling: Promise<unknown> = Promise.resolve();

  /** `threshold` alone selects a plain cosine rule (for signatures without the model's layout). */
  constructor(options: {
    registry: IdentityRegistry;
    shards: ShardSet;
    now: () => number;
    rule?: MatchRule;
    threshold?: number;
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
  }

  async identify(probe: PalmSignature): Promise<IdentificationDecision> {
    const started = performance.now();
    const best = await this.#bestMatch(probe, true);
    const decision: IdentificationDecision =
      best === undefined || best.score < this.#rule.accept ? { outcome: "no-match", score: best?.score ?? 0 } : { outcome: "match", identityId: best.identityId, score: best.score };
    if (decision.outcome === "match") this.#registry.recordSeen(decision.identityId, this.#now());
    this.#observe(decision.outcome, (performance.now() - started) / 1000);
    return decision;
  }

  /** The closest live identity by the match rule among the index's best candidates, matching or not. */
  closest(probe: PalmSignature): Promise<{ identityId: IdentityId; score: number } | undefined> {
    return this.#bestMatch(probe, false);
  }

  /**
   * `decisionOnly`: the caller only compares the score with the rule's threshold, so candidates
   * that cannot reach it are not read. Where the index's score bounds the cosine from above (an
   * exact index, or L2 after an orthonormal projection: index-layout.ts), a candidate scoring
   * under the rule's cosine floor can never match; reading and decrypting its template (most of
   * the short list, for a palm that is enrolled) would be wasted. If every candidate is left out,
   * the best is the top candidate at its index score, which is below the threshold.
   */
  async #bestMatch(probe: PalmSignature, decisionOnly: boolean): Promise<{ identityId: IdentityId; score: number } | undefined> {
    const candidates = await this.#shards.search(probe, this.#candidates);
    const prune = decisionOnly && scoresBoundCosine(this.#shards.layout);
    const read = prune ? candidates.filter((c) => c.score >= this.#rule.cosineFloor - INDEX_SCORE_SLACK) : candidates;
    let best: { identityId: IdentityId; score: number } | undefined;
    for (const { identityId, template } of this.#registry.templatesOf(read.map((c) => c.identityId))) {
      const score = this.#rule.score(probe, template);
      template.fill(0);
      if (best === undefined || score > best.score) best = { identityId, score };
    }
    const top = candidates[0];
    if (best === undefined && prune && top !== undefined && read.length === 0) best = { identityId: top.identityId, score: top.score };
    return best;
  }

  /**
   * Registry first, index second: a crash between the two leaves a registry record that the
   * next start indexes, never an index entry without a record.
   */
  enroll(captures: readonly PalmSignature[]): Promise<IdentityId> {
    const next = this.#enrolling.then(() => this.#enrollNow(captures));
    this.#enrolling = next.catch(() => undefined);
    return next;
  }

  async #enrollNow(captures: readonly PalmSignature[]): Promise<IdentityId> {
    if (captures.length < MIN_ENROLLMENT_CAPTURES) {
      throw new InvalidSignature({ reason: `enrollment needs ${MIN_ENROLLMENT_CAPTURES} captures, got ${captures.length}` });
    }
    const agreeing = this.#largestAgreeingSet(captures);
    if (agreeing.length < MIN_ENROLLMENT_CAPTURES) {
      throw new InvalidSignature({ reason: "the captures do not show the same palm" });
    }
    const template = averageSignatures(agreeing);
    const duplicate = await this.#bestMatch(template, true);
    if (duplicate !== undefined && duplicate.score >= this.#rule.accept) throw new AlreadyEnrolled({ identityId: duplicate.identityId, score: duplicate.score });
    const identityId = newIdentityId();
    this.#registry.enroll(identityId, template, this.#now());
    await this.#shards.add([{ identityId, template }]);
    return identityId;
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
