// The payment ledger, telling whenever a write changes an identity's count of open payments and
// when a write leaves it none. Every path that opens or settles a payment writes the ledger (the
// saga's authorization, a device's capture or void, the saga's reversal, an operator's void or
// refund, the sweep of attempts a restart left in flight), so watching the ledger's writes keeps
// the region's replicated open-payment count true and completes a pending deletion whichever
// path settled it, with or without a device connected.
import { PaymentLedger, type PaymentState } from "../storage/sqlite/payment-ledger.ts";

export interface LedgerWatcher {
  /** A write moved the identity's count of open payments from `before` to `open`. */
  readonly openChanged?: (identityId: string, open: number, before: number) => void;
  /** A write left the identity no open payment (whether or not it had one before). */
  readonly closed?: (identityId: string) => void;
}

export class ClosingPaymentLedger extends PaymentLedger {
  readonly #watcher: LedgerWatcher;

  /** The watcher is called synchronously, after the write. */
  constructor(db: ConstructorParameters<typeof PaymentLedger>[0], watcher: LedgerWatcher) {
    super(db);
    this.#watcher = watcher;
  }

  override update(
    idempotencyKey: string,
    change: { state: PaymentState; identityId?: string; authorizationId?: string; reason?: string },
    nowMs: number,
  ): void {
    const identityId = change.identityId ?? this.find(idempotencyKey)?.identityId ?? null;
    const before = identityId === null ? 0 : this.openTransactions(identityId);
    super.update(idempotencyKey, change, nowMs);
    if (identityId === null) return;
    const open = this.openTransactions(identityId);
    if (open !== before) this.#watcher.openChanged?.(identityId, open, before);
    if (open === 0) this.#watcher.closed?.(identityId);
  }
}
