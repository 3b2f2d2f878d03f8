// Deletion in this region, whoever asks for it: a person at a device (palm + confirmation) or in
// the portal, or the expiry sweeper for an identity nobody used for two years. With no payment
// open the identity is deleted at once: tombstone, data key destroyed, removed from the shards,
// and the person told by SMS. Otherwise the request is recorded as pending and completes as soon
// as the last open payment settles, by whichever path settles it (completeIfSettled).
// Replicating the tombstone to other regions belongs to the replication layer.
//
// Every decision runs one at a time: two paths settling the same identity's payments at once
// must not both delete it (nor both tell the person).
import type { Clock } from "../../core/clock.ts";
import type { IdentityId } from "../../core/ids.ts";
import type { DeletionRequest, DeletionResult } from "../../protocol/index.ts";
import type { DeletionAcknowledgement, DeletionCause } from "../lifecycle/deletion-acknowledgement.ts";
import type { IdentityDeletion } from "../registry/identity-deletion.ts";
import type { PaymentLedger } from "../registry/payment-ledger.ts";
import type { PalmLookup } from "./palm-lookup.ts";

export interface ShardRemoval {
  remove(identityIds: readonly IdentityId[]): unknown;
}

export interface DeletionDeskOptions {
  readonly deletion: IdentityDeletion;
  readonly ledger: PaymentLedger;
  readonly shards: ShardRemoval;
  readonly lookup: PalmLookup;
  readonly isLive: (identityId: string) => boolean;
  readonly acknowledgement: DeletionAcknowledgement;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

type DeletionAnswer = Omit<DeletionResult, "type" | "requestId">;

export class DeletionDesk {
  readonly #o: DeletionDeskOptions;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: DeletionDeskOptions) {
    this.#o = options;
  }

  async request(request: DeletionRequest): Promise<DeletionAnswer> {
    const payer = await this.#o.lookup(request.sealedSignature);
    if (payer === undefined) return { outcome: "no-match" };
    return this.deleteOrDefer(payer.identityId);
  }

  deleteOrDefer(identityId: string): Promise<DeletionAnswer> {
    return this.#oneAtATime(() => this.#deleteOrDefer(identityId, "requested"));
  }

  /**
   * Expiry: deletes like a request, but only if `stillExpired` holds when its turn comes (the
   * identity may have been used, here or in another region, since the sweeper chose it).
   */
  expire(identityId: string, stillExpired: () => boolean): Promise<DeletionAnswer | undefined> {
    return this.#oneAtATime(() => (stillExpired() ? this.#deleteOrDefer(identityId, "expired") : Promise.resolve(undefined)));
  }

  /** Completes the identity's pending deletion if its last open payment has settled. */
  completeIfSettled(identityId: string): Promise<boolean> {
    return this.#oneAtATime(async () => {
      if (!this.#o.deletion.pending().includes(identityId)) return false;
      return (await this.#deleteOrDefer(identityId, "requested")).outcome === "deleted";
    });
  }

  /** Completes every pending request whose payments have all settled (at start, after a settlement). */
  settlePending(): Promise<number> {
    return this.#oneAtATime(async () => {
      let done = 0;
      for (const identityId of this.#o.deletion.pending()) {
        if ((await this.#deleteOrDefer(identityId, "requested")).outcome === "deleted") done++;
      }
      return done;
    });
  }

  async #deleteOrDefer(identityId: string, cause: DeletionCause): Promise<DeletionAnswer> {
    const { deletion, ledger, clock, log } = this.#o;
    if (!this.#o.isLive(identityId)) {
      // Already gone (a second request, or a tombstone that arrived from another region): only
      // a request still recorded as pending is closed.
      if (deletion.pending().includes(identityId)) deletion.tombstone(identityId, clock.now());
      return { outcome: "deleted", identityId };
    }
    const open = ledger.openTransactions(identityId);
    if (open > 0) {
      deletion.recordRequest(identityId, clock.now());
      log(`deletion of ${identityId} (${cause}) pending: ${open} open transaction(s)`);
      return { outcome: "pending", identityId, openTransactions: open };
    }
    const acknowledgement = this.#o.acknowledgement.address(identityId, cause);
    deletion.tombstone(identityId, clock.now());
    await this.#o.shards.remove([identityId as IdentityId]);
    log(`identity ${identityId} deleted (${cause}): tombstone written, data key destroyed, removed from the index`);
    await acknowledgement?.send();
    return { outcome: "deleted", identityId };
  }

  /** Resolves once every deletion decided so far has run to its end, acknowledgement included. */
  async idle(): Promise<void> {
    let turn: Promise<unknown>;
    do {
      turn = this.#turn;
      await turn;
    } while (turn !== this.#turn);
  }

  #oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#turn.then(work);
    this.#turn = result.catch(() => undefined);
    return result;
  }
}
