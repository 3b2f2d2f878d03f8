// Decides who a palm belongs to, and whether a new palm may enroll.
//
// Identification: scatter the probe to every shard, gather the best candidates, accept the best
// one only if its similarity clears the calibrated threshold (core/match-threshold.ts).
// Enrollment: at least three captures must agree with each other (one hand, not several), their
// mean becomes the template, and a palm that already matches a live identity is refused as a
// duplicate.
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
import { MATCH_THRESHOLD } from "../../core/match-threshold.ts";
import { averageSignatures, similarity, type PalmSignature } from "../../core/palm-signature.ts";
import type { IdentityRegistry } from "../registry/identity-registry.ts";
import type { ShardSet } from "../shards/shard-set.ts";

export const MIN_ENROLLMENT_CAPTURES = 3;
const CANDIDATES = 5;

export type IdentificationDecision =
  | { readonly outcome: "match"; readonly identityId: IdentityId; readonly score: number }
  | { readonly outcome: "no-match"; readonly score: number };

export class PalmIdentifier {
  readonly #registry: IdentityRegistry;
  readonly #shards: ShardSet;
  readonly #threshold: number;
  readonly #now: () => number;

  constructor(options: { registry: IdentityRegistry; shards: ShardSet; now: () => number; threshold?: number }) {
    this.#registry = options.registry;
    this.#shards = options.shards;
    this.#now = options.now;
    this.#threshold = options.threshold ?? MATCH_THRESHOLD;
  }

  identify(probe: PalmSignature): IdentificationDecision {
    const best = this.#shards.search(probe, CANDIDATES).find((c) => this.#registry.isLive(c.identityId));
    if (best === undefined || best.score < this.#threshold) return { outcome: "no-match", score: best?.score ?? 0 };
    this.#registry.recordSeen(best.identityId, this.#now());
    return { outcome: "match", identityId: best.identityId, score: best.score };
  }

  /**
   * Registry first, index second: a crash between the two leaves a registry record that the
   * next start indexes, never an index entry without a record.
   */
  enroll(captures: readonly PalmSignature[]): IdentityId {
    if (captures.length < MIN_ENROLLMENT_CAPTURES) {
      throw new InvalidSignature({ reason: `enrollment needs ${MIN_ENROLLMENT_CAPTURES} captures, got ${captures.length}` });
    }
    const agreeing = this.#largestAgreeingSet(captures);
    if (agreeing.length < MIN_ENROLLMENT_CAPTURES) {
      throw new InvalidSignature({ reason: "the captures do not show the same palm" });
    }
    const template = averageSignatures(agreeing);
    const duplicate = this.#shards.search(template, CANDIDATES).find((c) => c.score >= this.#threshold && this.#registry.isLive(c.identityId));
    if (duplicate !== undefined) throw new AlreadyEnrolled({ identityId: duplicate.identityId, score: duplicate.score });
    const identityId = newIdentityId();
    this.#registry.enroll(identityId, template, this.#now());
    this.#shards.add([{ identityId, template }]);
    return identityId;
  }

  /**
   * The largest set of captures that all match each other, best-agreeing first on ties. One
   * blurred or half-covered capture is left out instead of failing the enrollment; captures of
   * two different hands never form a set of three.
   */
  #largestAgreeingSet(captures: readonly PalmSignature[]): PalmSignature[] {
    const n = captures.length;
    const pair = captures.map((a) => captures.map((b) => similarity(a, b)));
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
          if (score < this.#threshold) {
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
