// The payment ledger, telling when an identity's last open payment has closed. Every path that
// settles a payment writes the ledger (a device's capture or void, the saga's reversal, an
// operator's void or refund, the sweep of attempts a restart left in flight), so watching the
// ledger's writes completes a pending deletion whichever path settled it, with or without a
// device connected.
import type { DatabaseSync } from "node:sqlite";
import { PaymentLedger, type PaymentState } from "../registry/payment-ledger.ts";

export class ClosingPaymentLedger extends PaymentLedger {
  readonly #closed: (identityId: string) => void;

  /** `closed` is called, synchronously, after a write leaves the identity no open payment. */
  constructor(db: DatabaseSync, closed: (identityId: string) => void) {
    super(db);
    this.#closed = closed;
  }

  override update(idempotencyKey: string, change: { state: PaymentState; identityId?: string; authorizationId?: string; reason?: string }, nowMs: number): void {
    super.update(idempotencyKey, change, nowMs);
    const identityId = change.identityId ?? this.find(idempotencyKey)?.identityId ?? null;
    if (identityId !== null && this.openTransactions(identityId) === 0) this.#closed(identityId);
  }
}
