// What every region must know for a deletion to wait on payments open anywhere in the
// federation. Payments are regional (the ledger does not replicate), so each region publishes,
// per identity, its own count of open payments in a replicated register `open_payments:<region>`
// that only it writes; and a deletion that must wait is announced in `deletion_requested`, naming
// the region that recorded it: that region completes it and tells the person, so the
// acknowledgement goes out once. Both are ordinary last-writer-wins field registers, encrypted
// with the identity's data key, so the tombstone shreds them with everything else.
import type { DeletionCause } from "./deletion-acknowledgement.ts";
import { Effect } from "effect";
import { DELETION_REQUESTED_FIELD, OPEN_PAYMENTS_FIELD_PREFIX, openPaymentsField } from "../identity/identity-fields.ts";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";

/** The replicated announcement of a deletion waiting for open payments. */
export interface DeletionRequestNote {
  readonly requestedMs: number;
  /** The region that recorded the request: it completes the deletion and acknowledges it. */
  readonly region: string;
  readonly cause: DeletionCause;
}

const isNote = (value: unknown): value is DeletionRequestNote =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as DeletionRequestNote).requestedMs === "number" &&
  typeof (value as DeletionRequestNote).region === "string" &&
  ((value as DeletionRequestNote).cause === "requested" || (value as DeletionRequestNote).cause === "expired");

export class DeletionRegisters {
  readonly regionId: string;
  readonly #registry: IdentityRegistryShape;

  constructor(registry: IdentityRegistryShape) {
    this.#registry = registry;
    this.regionId = registry.regionId;
  }

  /** This region's count of the identity's open payments, for the others. False once it is deleted. */
  publishOpenPayments(identityId: string, open: number): boolean {
    return Effect.runSync(this.#registry.writeRegister(identityId, openPaymentsField(this.regionId), open));
  }

  /** Open payments the other regions have published (this region's own count is its ledger's). */
  openElsewhere(identityId: string): number {
    let open = 0;
    for (const [field, count] of Effect.runSync(this.#registry.readRegisters(identityId, OPEN_PAYMENTS_FIELD_PREFIX))) {
      if (field === openPaymentsField(this.regionId)) continue;
      if (typeof count === "number" && Number.isInteger(count) && count > 0) open += count;
    }
    return open;
  }

  /** The deletion request announced for the identity, if any (here or in another region). */
  requested(identityId: string): DeletionRequestNote | undefined {
    const note = Effect.runSync(this.#registry.readRegisters(identityId, DELETION_REQUESTED_FIELD)).get(DELETION_REQUESTED_FIELD);
    return isNote(note) ? note : undefined;
  }

  /** Announces that this region recorded a deletion request and will complete it. */
  announceRequest(identityId: string, requestedMs: number, cause: DeletionCause): boolean {
    const note: DeletionRequestNote = { requestedMs, region: this.regionId, cause };
    return Effect.runSync(this.#registry.writeRegister(identityId, DELETION_REQUESTED_FIELD, note));
  }
}
