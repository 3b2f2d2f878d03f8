// The region's record of every payment attempt, keyed by idempotency key. It is what makes a
// payment exactly-once across retries and node restarts: an attempt is written as "authorizing"
// before the processor is called, so a restarted node re-drives it with the same key instead of
// charging again.
import type { DatabaseSync } from "node:sqlite";

export type PaymentState =
  | "authorizing"
  | "approved"
  | "declined"
  | "no-match"
  | "failed"
  | "captured"
  | "voided"
  | "refunded"
  | "credential-issued"
  /** Approved, unsettled past its lifetime, and no longer held open by the processor. */
  | "expired";

export interface PaymentRecord {
  readonly idempotencyKey: string;
  readonly identityId: string | null;
  readonly merchantId: string;
  readonly amountMinor: number | null;
  readonly currency: string | null;
  readonly state: PaymentState;
  readonly authorizationId: string | null;
  readonly reason: string | null;
}

/** Authorized but neither captured nor voided: deletion waits for these. */
const OPEN_STATES = ["authorizing", "approved"] as const;

export class PaymentLedger {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  find(idempotencyKey: string): PaymentRecord | undefined {
    const row = this.#db
      .prepare(
        `SELECT idempotency_key AS idempotencyKey, identity_id AS identityId, merchant_id AS merchantId, amount_minor AS amountMinor,
                currency, state, authorization_id AS authorizationId, reason FROM payments WHERE idempotency_key = ?`,
      )
      .get(idempotencyKey) as PaymentRecord | undefined;
    return row === undefined ? undefined : { ...row };
  }

  byAuthorization(authorizationId: string): PaymentRecord | undefined {
    const row = this.#db.prepare("SELECT idempotency_key AS k FROM payments WHERE authorization_id = ?").get(authorizationId) as { k: string } | undefined;
    return row === undefined ? undefined : this.find(row.k);
  }

  /** Records the attempt before the processor hears of it; the first writer of a key wins. */
  begin(record: { idempotencyKey: string; merchantId: string; amountMinor: number | null; currency: string | null }, nowMs: number): void {
    this.#db
      .prepare(
        `INSERT INTO payments (idempotency_key, merchant_id, amount_minor, currency, state, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, 'authorizing', ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
      )
      .run(record.idempotencyKey, record.merchantId, record.amountMinor, record.currency, nowMs, nowMs);
  }

  update(idempotencyKey: string, change: { state: PaymentState; identityId?: string; authorizationId?: string; reason?: string }, nowMs: number): void {
    this.#db
      .prepare(
        `UPDATE payments SET state = ?, identity_id = COALESCE(?, identity_id), authorization_id = COALESCE(?, authorization_id),
                reason = COALESCE(?, reason), updated_ms = ? WHERE idempotency_key = ?`,
      )
      .run(change.state, change.identityId ?? null, change.authorizationId ?? null, change.reason ?? null, nowMs, idempotencyKey);
  }

  /** Attempts a crash left in flight, to be re-driven with their own keys at start. */
  inFlight(): PaymentRecord[] {
    const keys = this.#db.prepare("SELECT idempotency_key AS k FROM payments WHERE state = 'authorizing'").all() as { k: string }[];
    return keys.map((r) => this.find(r.k)!);
  }

  /**
   * Approvals neither captured nor voided since `atMostMs` or earlier, oldest first. An approved
   * row is last written when it is approved, so its updated time is its approval time.
   */
  approvedSince(atMostMs: number, limit: number): PaymentRecord[] {
    const keys = this.#db
      .prepare(
        "SELECT idempotency_key AS k FROM payments WHERE state = 'approved' AND authorization_id IS NOT NULL AND updated_ms <= ? ORDER BY updated_ms LIMIT ?",
      )
      .all(atMostMs, limit) as { k: string }[];
    return keys.map((r) => this.find(r.k)!);
  }

  /** When the oldest approval still unsettled was approved, if any. */
  oldestApproval(): number | undefined {
    const row = this.#db.prepare("SELECT MIN(updated_ms) AS at FROM payments WHERE state = 'approved' AND authorization_id IS NOT NULL").get() as {
      at: number | null;
    };
    return row.at ?? undefined;
  }

  /** The identity's payments authorized and not yet settled, oldest first. */
  openFor(identityId: string): (PaymentRecord & { readonly createdMs: number })[] {
    const rows = this.#db
      .prepare(
        `SELECT idempotency_key AS k, created_ms AS createdMs FROM payments WHERE identity_id = ? AND state IN (${OPEN_STATES.map(() => "?").join(", ")}) ORDER BY created_ms`,
      )
      .all(identityId, ...OPEN_STATES) as { k: string; createdMs: number }[];
    return rows.map((r) => ({ ...this.find(r.k)!, createdMs: r.createdMs }));
  }

  openTransactions(identityId: string): number {
    const row = this.#db
      .prepare(`SELECT COUNT(*) AS n FROM payments WHERE identity_id = ? AND state IN (${OPEN_STATES.map(() => "?").join(", ")})`)
      .get(identityId, ...OPEN_STATES) as { n: number };
    return row.n;
  }
}
