// Deletion requested at a device (palm + confirmation). With no payment open the identity is
// deleted at once: tombstone, data key destroyed, removed from the shards. Otherwise the request
// is recorded as pending and completes when the last open payment settles (settlePending).
// Replicating the tombstone to other regions belongs to the replication issue.
import type { Clock } from "../../core/clock.ts";
import type { IdentityId } from "../../core/ids.ts";
import type { DeletionRequest, DeletionResult } from "../../protocol/index.ts";
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
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

export class DeletionDesk {
  readonly #o: DeletionDeskOptions;

  constructor(options: DeletionDeskOptions) {
    this.#o = options;
  }

  async request(request: DeletionRequest): Promise<Omit<DeletionResult, "type" | "requestId">> {
    const payer = await this.#o.lookup(request.sealedSignature);
    if (payer === undefined) return { outcome: "no-match" };
    return this.deleteOrDefer(payer.identityId);
  }

  async deleteOrDefer(identityId: string): Promise<Omit<DeletionResult, "type" | "requestId">> {
    const open = this.#o.ledger.openTransactions(identityId);
    if (open > 0) {
      this.#o.deletion.recordRequest(identityId, this.#o.clock.now());
      this.#o.log(`deletion of ${identityId} pending: ${open} open transaction(s)`);
      return { outcome: "pending", identityId, openTransactions: open };
    }
    this.#o.deletion.tombstone(identityId, this.#o.clock.now());
    await this.#o.shards.remove([identityId as IdentityId]);
    this.#o.log(`identity ${identityId} deleted: tombstone written, data key destroyed, removed from the index`);
    return { outcome: "deleted", identityId };
  }

  /** Completes pending requests whose payments have all settled. */
  async settlePending(): Promise<number> {
    let done = 0;
    for (const identityId of this.#o.deletion.pending()) {
      if ((await this.deleteOrDefer(identityId)).outcome === "deleted") done++;
    }
    return done;
  }
}
