// Approved authorizations that nobody captures or voids expire: past AUTHORIZATION_LIFETIME_MS
// they are voided at the processor (Payments.expireAuthorization), which releases the hold on the
// card and, through the ledger's watcher, lets a deletion waiting for them complete. Like identity
// expiry, the deadline is data: the ledger's oldest unsettled approval says when the next one is
// due, one clock timer waits for it, and each firing reads the ledger again. It also sweeps at
// start, so approvals that fell due while the node was down are voided then.
import type { Clock } from "../../core/clock.ts";
import type { Payments } from "../sagas/payments.ts";
import type { PaymentLedger } from "../storage/sqlite/payment-ledger.ts";
import { DeadlineSweeper } from "./deadline-sweeper.ts";

/**
 * How long an approval may stay uncaptured. Card networks let an issuer release an uncaptured
 * authorization after about seven days (card-present and most card-not-present holds), and a
 * capture after that may be refused; a palmline lane captures within seconds of the receipt, so
 * nothing legitimate is still waiting by then, and the operator keeps a full week to settle by hand.
 */
export const AUTHORIZATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** Approvals voided per batch; between batches the node serves everything else. */
const EXPIRY_BATCH = 64;

export interface AuthorizationExpiryOptions {
  readonly ledger: Pick<PaymentLedger, "approvedSince" | "oldestApproval">;
  readonly payments: Pick<Payments, "expireAuthorization">;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

export class AuthorizationExpiry {
  readonly #o: AuthorizationExpiryOptions;
  readonly #sweeper: DeadlineSweeper;

  constructor(options: AuthorizationExpiryOptions) {
    this.#o = options;
    this.#sweeper = new DeadlineSweeper(
      { name: "authorization expiry", nextDeadline: () => this.nextExpiry(), sweep: (running) => this.#voidDue(running) },
      options.clock,
      options.log,
    );
  }

  /** Voids what is due now, then keeps following the next deadline until stopped. */
  start(): void {
    this.#sweeper.start();
  }

  stop(): Promise<void> {
    return this.#sweeper.stop();
  }

  /** Resolves once no sweep is under way. */
  settled(): Promise<void> {
    return this.#sweeper.settled();
  }

  /** When the oldest unsettled approval expires, from the ledger as it is now. */
  nextExpiry(): number | undefined {
    const oldest = this.#o.ledger.oldestApproval();
    return oldest === undefined ? undefined : oldest + AUTHORIZATION_LIFETIME_MS;
  }

  async #voidDue(running: () => boolean): Promise<{ unfinished: boolean }> {
    // Approvals the processor could not be asked about in this sweep: left for the retry, so one
    // unreachable processor neither stops the others nor makes the sweep spin.
    const notReached = new Set<string>();
    for (;;) {
      const cutoff = this.#o.clock.now() - AUTHORIZATION_LIFETIME_MS;
      const due = this.#o.ledger
        .approvedSince(cutoff, EXPIRY_BATCH + notReached.size)
        .map((r) => r.authorizationId!)
        .filter((id) => !notReached.has(id))
        .slice(0, EXPIRY_BATCH);
      if (due.length === 0) break;
      for (const authorizationId of due) {
        if (!running()) return { unfinished: false };
        if ((await this.#o.payments.expireAuthorization(authorizationId)) === "not-reached") notReached.add(authorizationId);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { unfinished: notReached.size > 0 };
  }
}
