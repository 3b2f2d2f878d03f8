// Deletion of an identity in this region: a tombstone stamped with the HLC (it dominates every
// concurrent update when replicated), the wrapped data key destroyed so every ciphertext of the
// identity is unreadable, the encrypted fields, phone index and entitlements dropped (payment
// records stay, as the books require, under a pseudonymous id). A request made while a
// payment is still open is recorded as pending and completed when the payments settle.
import type { DatabaseSync } from "node:sqlite";
import { encodeHlc, type HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import { destroyDataKeys } from "../storage/data-key-store.ts";

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

  /**
   * Tombstone, then crypto-shred: the tombstone (with the field rows, phone index and
   * entitlements dropped: a tombstoned record has no fields) commits first, then the data key is
   * destroyed in the key file. A crash between the two leaves a key whose identity is tombstoned,
   * which the next open sweeps; never a live identity without its key.
   */
  tombstone(identityId: string, nowMs: number): void {
    const stamp = encodeHlc(this.#hlc.now());
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.prepare("UPDATE identities SET deleted_hlc = ? WHERE identity_id = ? AND deleted_hlc IS NULL").run(stamp, identityId);
      this.#db.prepare("DELETE FROM identity_fields WHERE identity_id = ?").run(identityId);
      this.#db.prepare("DELETE FROM phone_index WHERE identity_id = ?").run(identityId);
      this.#db.prepare("DELETE FROM entitlements WHERE identity_id = ?").run(identityId);
      this.#db.prepare("INSERT INTO deletion_requests (identity_id, requested_ms, completed_ms) VALUES (?, ?, ?) ON CONFLICT (identity_id) DO UPDATE SET completed_ms = excluded.completed_ms").run(identityId, nowMs, nowMs);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    destroyDataKeys(this.#db, [identityId]);
  }
}
