// The identity registry: the region's source of truth for who is enrolled. FAISS shards are
// derived from it and rebuilt from it; nothing is identifiable unless it is here and live.
import type { DatabaseSync } from "node:sqlite";
import { encodeHlc, type HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import type { IdentityId } from "../../core/ids.ts";
import { signatureFromBytes, signatureToBytes, type PalmSignature } from "../../core/palm-signature.ts";
import type { IdentityVault } from "../storage/identity-vault.ts";

export const TEMPLATE_FIELD = "palm_template";

export interface EnrolledTemplate {
  readonly identityId: IdentityId;
  readonly template: PalmSignature;
}

export class IdentityRegistry {
  readonly #db: DatabaseSync;
  readonly #vault: IdentityVault;
  readonly #hlc: HybridLogicalClock;
  readonly #regionId: string;

  constructor(options: { db: DatabaseSync; vault: IdentityVault; hlc: HybridLogicalClock; regionId: string }) {
    this.#db = options.db;
    this.#vault = options.vault;
    this.#hlc = options.hlc;
    this.#regionId = options.regionId;
  }

  /** Persists a new identity and its template in one transaction. */
  enroll(identityId: IdentityId, template: PalmSignature, nowMs: number): void {
    const dataKey = this.#vault.newDataKey();
    const stamp = encodeHlc(this.#hlc.now());
    const ciphertext = this.#vault.encryptField(identityId, TEMPLATE_FIELD, dataKey, signatureToBytes(template));
    this.#transaction(() => {
      this.#db
        .prepare("INSERT INTO identities (identity_id, origin_region, created_hlc, last_seen_ms, wrapped_data_key) VALUES (?, ?, ?, ?, ?)")
        .run(identityId, this.#regionId, stamp, nowMs, this.#vault.wrapDataKey(identityId, dataKey));
      this.#db
        .prepare("INSERT INTO identity_fields (identity_id, field, hlc, value) VALUES (?, ?, ?, ?)")
        .run(identityId, TEMPLATE_FIELD, stamp, ciphertext);
    });
    dataKey.fill(0);
  }

  /** Raises last-seen (a max-register: an older time never lowers it). */
  recordSeen(identityId: IdentityId, nowMs: number): void {
    this.#db
      .prepare("UPDATE identities SET last_seen_ms = MAX(last_seen_ms, ?) WHERE identity_id = ? AND deleted_hlc IS NULL")
      .run(nowMs, identityId);
  }

  isLive(identityId: string): boolean {
    const row = this.#db.prepare("SELECT deleted_hlc FROM identities WHERE identity_id = ?").get(identityId) as
      | { deleted_hlc: string | null }
      | undefined;
    return row !== undefined && row.deleted_hlc === null;
  }

  liveCount(): number {
    const row = this.#db.prepare("SELECT COUNT(*) AS n FROM identities WHERE deleted_hlc IS NULL").get() as { n: number };
    return row.n;
  }

  /** Every live identity with its decrypted template, in enrollment order. */
  *liveTemplates(): Generator<EnrolledTemplate> {
    const rows = this.#db
      .prepare(
        `SELECT i.identity_id AS id, i.wrapped_data_key AS wrapped, f.value AS value
           FROM identities i JOIN identity_fields f ON f.identity_id = i.identity_id AND f.field = ?
          WHERE i.deleted_hlc IS NULL ORDER BY i.rowid`,
      )
      .iterate(TEMPLATE_FIELD) as Iterable<{ id: string; wrapped: Uint8Array; value: Uint8Array }>;
    for (const row of rows) {
      const dataKey = this.#vault.unwrapDataKey(row.id, row.wrapped);
      const plain = this.#vault.decryptField(row.id, TEMPLATE_FIELD, dataKey, row.value);
      dataKey.fill(0);
      yield { identityId: row.id as IdentityId, template: signatureFromBytes(plain) };
      plain.fill(0);
    }
  }

  #transaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}
