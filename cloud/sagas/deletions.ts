// Deletion, whoever asks for it: a person at a device (palm + confirmation) or in the portal, or
// the expiry sweeper for an identity nobody used for two years. With no payment open anywhere in
// the federation the identity is deleted at once: tombstone, data key destroyed, removed from
// the shards, and the person told by SMS; the tombstone then replicates to every region.
// Otherwise the request is recorded here as pending and announced to the other regions
// (cloud/lifecycle/deletion-registers.ts), and this region completes it once its own ledger and
// every other region's published count say no payment is open: after a local settlement
// (completeIfSettled) or after applying another region's records (settlePending).
//
// Only the region that recorded the request completes it: it reads the phone for the
// acknowledgement just before its tombstone shreds it, so the person is told once. A region that
// holds a pending row while another region's later request names that one leaves it to that one.
//
// Every decision runs one at a time: two paths settling the same identity's payments at once
// must not both delete it (nor both tell the person). A deletion is complete, answered and
// acknowledged only once no file on disk holds the palm (the index snapshot that still held it
// replaced and destroyed: RegistryFollower.erased); that wait runs after the decision's turn, so
// deletions decided meanwhile share one snapshot rather than writing one each.
import { Effect, Semaphore } from "effect";
import type { Clock } from "../../core/clock.ts";
import type { DeletionRequest, DeletionResult } from "../../protocol/index.ts";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { DeletionAcknowledgement, DeletionCause } from "../lifecycle/deletion-acknowledgement.ts";
import type { DeletionRegisters } from "../lifecycle/deletion-registers.ts";
import type { RegistryFollower } from "../shards/registry-follower.ts";
import type { PaymentLedger } from "../storage/sqlite/payment-ledger.ts";
import type { PalmLookup } from "./palm-lookup.ts";

export interface DeletionsOptions {
  readonly registry: IdentityRegistryShape;
  readonly ledger: PaymentLedger;
  /** What the other regions publish about their open payments and deletion requests. */
  readonly registers: DeletionRegisters;
  /** The shards' follower: a deletion is acknowledged once the palm has left the index and its snapshot on disk. */
  readonly index: RegistryFollower;
  readonly lookup: PalmLookup;
  readonly acknowledgement: DeletionAcknowledgement;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

type DeletionAnswer = Omit<DeletionResult, "type" | "requestId">;

/** What a decision leaves to finish after its turn: each deletion's erasure and acknowledgement. */
type Completions = Promise<void>[];

export class Deletions {
  readonly #o: DeletionsOptions;
  readonly #turn = Semaphore.makeUnsafe(1);
  /** Decisions asked for and not yet finished (idle() waits for them). */
  readonly #underway = new Set<Promise<unknown>>();

  constructor(options: DeletionsOptions) {
    this.#o = options;
  }

  async request(request: DeletionRequest): Promise<DeletionAnswer> {
    // No step-up here: deleting someone needs the palm alone to be clear (a grey zone is no match).
    const found = await this.#o.lookup(request.sealedSignature);
    if (found.kind !== "identified") return { outcome: "no-match" };
    return this.deleteOrDefer(found.payer.identityId);
  }

  deleteOrDefer(identityId: string): Promise<DeletionAnswer> {
    return this.#oneAtATime((completions) => this.#deleteOrDefer(identityId, "requested", completions));
  }

  /**
   * Expiry: deletes like a request, but only if `stillExpired` holds when its turn comes (the
   * identity may have been used, here or in another region, since the sweeper chose it).
   */
  expire(identityId: string, stillExpired: () => boolean): Promise<DeletionAnswer | undefined> {
    return this.#oneAtATime((completions) => (stillExpired() ? this.#deleteOrDefer(identityId, "expired", completions) : Promise.resolve(undefined)));
  }

  /** Completes the identity's pending deletion if its last open payment has settled. */
  completeIfSettled(identityId: string): Promise<boolean> {
    return this.#oneAtATime((completions) => this.#completeIfDue(identityId, completions));
  }

  /**
   * Completes every pending request whose payments have all settled, here and in every other
   * region (at start, and after applying another region's records, which may carry its count
   * dropping to 0).
   */
  settlePending(): Promise<number> {
    return this.#oneAtATime(async (completions) => {
      let done = 0;
      for (const identityId of this.#pending()) {
        if (await this.#completeIfDue(identityId, completions)) done++;
      }
      return done;
    });
  }

  /**
   * Whether a deletion of the identity is waiting, recorded here or announced by another region:
   * such an identity takes no new payments, so the wait ends.
   */
  isPending(identityId: string): boolean {
    return this.#pending().includes(identityId) || this.#o.registers.requested(identityId) !== undefined;
  }

  /** Open payments for the identity in the whole federation: this ledger plus the others' counts. */
  openTransactions(identityId: string): number {
    return this.#o.ledger.openTransactions(identityId) + this.#o.registers.openElsewhere(identityId);
  }

  async #deleteOrDefer(identityId: string, cause: DeletionCause, completions: Completions): Promise<DeletionAnswer> {
    const { registry, registers, clock, log } = this.#o;
    if (!this.#isLive(identityId)) {
      // Already gone (a second request, or a tombstone that arrived from another region): only
      // a request still recorded as pending is closed.
      if (this.#pending().includes(identityId)) await Effect.runPromise(registry.tombstone(identityId, clock.now(), cause));
      return { outcome: "deleted", identityId };
    }
    const open = this.openTransactions(identityId);
    if (open > 0) {
      const now = clock.now();
      await Effect.runPromise(registry.recordDeletionRequest(identityId, now));
      // A request already announced by this region keeps its stamp; a request announced by
      // another region is taken over (last writer wins): this region now completes it.
      if (registers.requested(identityId)?.region !== registers.regionId) registers.announceRequest(identityId, now, cause);
      log(`deletion of ${identityId} (${cause}) pending: ${open} open transaction(s)`);
      return { outcome: "pending", identityId, openTransactions: open };
    }
    await this.#delete(identityId, cause, completions);
    return { outcome: "deleted", identityId };
  }

  async #completeIfDue(identityId: string, completions: Completions): Promise<boolean> {
    const { registry, registers, clock } = this.#o;
    if (!this.#pending().includes(identityId)) return false;
    if (!this.#isLive(identityId)) {
      await Effect.runPromise(registry.tombstone(identityId, clock.now(), "requested")); // deleted elsewhere meanwhile: close the row
      return true;
    }
    const note = registers.requested(identityId);
    // Another region's later request names it as the one to complete and acknowledge.
    if (note !== undefined && note.region !== registers.regionId) return false;
    if (this.openTransactions(identityId) > 0) {
      // A request recorded before regions announced theirs: announce it now, so the regions
      // holding its payments refuse new ones meanwhile.
      if (note === undefined) registers.announceRequest(identityId, clock.now(), "requested");
      return false;
    }
    await this.#delete(identityId, note?.cause ?? "requested", completions);
    return true;
  }

  async #delete(identityId: string, cause: DeletionCause, completions: Completions): Promise<void> {
    const { registry, clock, log, index } = this.#o;
    const acknowledgement = this.#o.acknowledgement.address(identityId, cause);
    const change = await Effect.runPromise(registry.tombstone(identityId, clock.now(), cause));
    await index.reached(change.seq);
    completions.push(
      index.erased(change.seq).then(async () => {
        log(`identity ${identityId} deleted (${cause}): tombstone written, data key destroyed, removed from the index and its snapshot`);
        await acknowledgement?.send();
      }),
    );
  }

  /** Resolves once every deletion decided so far has run to its end, acknowledgement included. */
  async idle(): Promise<void> {
    while (this.#underway.size > 0) await Promise.allSettled(this.#underway);
  }

  #oneAtATime<T>(work: (completions: Completions) => Promise<T>): Promise<T> {
    const completions: Completions = [];
    const decided = Effect.runPromise(this.#turn.withPermits(1)(Effect.promise(() => work(completions))));
    const result = decided.then(async (answer) => {
      await Promise.all(completions);
      return answer;
    });
    this.#underway.add(result);
    const forget = () => this.#underway.delete(result);
    result.then(forget, forget);
    return result;
  }

  #pending(): string[] {
    return Effect.runSync(this.#o.registry.openDeletionRequests());
  }

  #isLive(identityId: string): boolean {
    return Effect.runSync(this.#o.registry.isLive(identityId));
  }
}
