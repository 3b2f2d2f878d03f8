// Deletion of an identity in this region: a tombstone stamped with the HLC (it dominates every
// concurrent update when replicated), the wrapped data key destroyed so every ciphertext of the
// identity is unreadable, the encrypted fields, phone index and entitlements dropped (payment
// records stay, as the books require, under a pseudonymous id). A request made while a
// payment is still open is recorded as pending and completed when the payments settle.
import type { DatabaseSync } from "node:sqlite";
import { encodeHlc, type HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";

export class IdentityDeletion {
  readonly #db: DatabaseSync;
  readonly #hlc: HybridLogicalClock;

  constructor(db: DatabaseSync, hlc: HybridLogicalClock) {
    this.#db = db;
    this.#hlc = hlc;
  }

  recordRequest(identityId: string, nowMs: number): void {
    this.#db.prepare("INSERT INTO deletion_requests (identity_id, requested_ms) VALUES (?, ?) ON CONFLICT (identity_id) DO NOTHING").run(identityId, nowMs);
  }

  pending(): string[] {
    return (this.#db.prepare("SELECT identity_id AS id FROM deletion_requests WHERE completed_ms IS NULL").all() as { id: string }[]).map((r) => r.id);
  }

  /** Tombstone + crypto-shred, in one transaction. */
  tombstone(identityId: string, nowMs: number): void {
    const stamp = encodeHlc(this.#hlc.now());
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.prepare("UPDATE identities SET deleted_hlc = ?, wrapped_data_key = NULL WHERE identity_id = ? AND deleted_hlc IS NULL").run(stamp, identityId);
      this.#db.prepare("UPDATE identity_fields SET value = NULL, hlc = ? WHERE identity_id = ?").run(stamp, identityId);
      this.#db.prepare("DELETE FROM phone_index WHERE identity_id = ?").run(identityId);
      this.#db.prepare("DELETE FROM entitlements WHERE identity_id = ?").run(identityId);
      this.#db.prepare("INSERT INTO deletion_requests (identity_id, requested_ms, completed_ms) VALUES (?, ?, ?) ON CONFLICT (identity_id) DO UPDATE SET completed_ms = excluded.completed_ms").run(identityId, nowMs, nowMs);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}
