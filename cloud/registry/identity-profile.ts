// The personal fields of an identity beyond its template: card on file (processor token, brand,
// last4, expiry), phone, loyalty card. Each is a last-writer-wins register in identity_fields,
// encrypted with the identity's own data key, so deletion shreds them with the template.
import type { DatabaseSync } from "node:sqlite";
import { encodeHlc, type HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import { DataKeyStore } from "../storage/data-key-store.ts";
import type { IdentityVault } from "../storage/identity-vault.ts";

export interface CardReference {
  readonly paymentToken: string;
  readonly brand: string;
  readonly last4: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
}

export interface IdentityProfileFields {
  readonly card?: CardReference;
  readonly phone?: string;
  readonly loyaltyCard?: string;
}

const FIELDS = { card: "card", phone: "phone", loyaltyCard: "loyalty_card" } as const;

/** The phone register's field name: replication decrypts it to keep each region's phone index. */
export const PHONE_FIELD = FIELDS.phone;

/**
 * Lifecycle registers, replicated like the profile fields and encrypted the same way
 * (cloud/lifecycle/deletion-registers.ts): each region's count of the identity's open payments,
 * written by that region only, and a deletion request waiting for them.
 */
export const OPEN_PAYMENTS_FIELD_PREFIX = "open_payments:";
export const openPaymentsField = (regionId: string) => `${OPEN_PAYMENTS_FIELD_PREFIX}${regionId}`;
export const DELETION_REQUESTED_FIELD = "deletion_requested";

/** A profile field's plaintext, as written: JSON of the value. */
export const encodeProfileValue = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const decodeProfileValue = (plain: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(plain));

export class IdentityProfiles {
  readonly #db: DatabaseSync;
  readonly #vault: IdentityVault;
  readonly #hlc: HybridLogicalClock;
  readonly #phoneHash: (phone: string) => string;
  readonly #keys: DataKeyStore;

  constructor(options: { db: DatabaseSync; vault: IdentityVault; hlc: HybridLogicalClock; phoneHash: (phone: string) => string }) {
    this.#db = options.db;
    this.#vault = options.vault;
    this.#hlc = options.hlc;
    this.#phoneHash = options.phoneHash;
    this.#keys = new DataKeyStore({ db: options.db, vault: options.vault });
  }

  /** Writes the given fields in one transaction; a field written later with a newer stamp wins. */
  write(identityId: string, fields: IdentityProfileFields): void {
    const dataKey = this.#dataKey(identityId);
    if (dataKey === undefined) throw new Error(`identity ${identityId} is not live`);
    const stamp = encodeHlc(this.#hlc.now());
    const upsert = this.#db.prepare(
      `INSERT INTO identity_fields (identity_id, field, hlc, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (identity_id, field) DO UPDATE SET hlc = excluded.hlc, value = excluded.value WHERE excluded.hlc > identity_fields.hlc`,
    );
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const [name, field] of Object.entries(FIELDS) as [keyof IdentityProfileFields, string][]) {
        const value = fields[name];
        if (value === undefined) continue;
        const plain = encodeProfileValue(value);
        upsert.run(identityId, field, stamp, this.#vault.encryptField(identityId, field, dataKey, plain));
        plain.fill(0);
      }
      if (fields.phone !== undefined) {
        // A new number replaces the identity's old one in the index.
        this.#db.prepare("DELETE FROM phone_index WHERE identity_id = ?").run(identityId);
        this.#db.prepare("INSERT OR REPLACE INTO phone_index (phone_hash, identity_id) VALUES (?, ?)").run(this.#phoneHash(fields.phone), identityId);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      dataKey.fill(0);
    }
  }

  /** Clears one field: a newer register holding nothing, so the clearing wins like any write. */
  clear(identityId: string, name: keyof IdentityProfileFields): void {
    this.#db
      .prepare(
        `INSERT INTO identity_fields (identity_id, field, hlc, value) VALUES (?, ?, ?, NULL)
         ON CONFLICT (identity_id, field) DO UPDATE SET hlc = excluded.hlc, value = NULL WHERE excluded.hlc > identity_fields.hlc`,
      )
      .run(identityId, FIELDS[name], encodeHlc(this.#hlc.now()));
    if (name === "phone") this.#db.prepare("DELETE FROM phone_index WHERE identity_id = ?").run(identityId);
  }

  read(identityId: string): IdentityProfileFields {
    const dataKey = this.#dataKey(identityId);
    if (dataKey === undefined) return {};
    try {
      const rows = this.#db.prepare("SELECT field, value FROM identity_fields WHERE identity_id = ?").all(identityId) as { field: string; value: Uint8Array | null }[];
      const out: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(FIELDS)) {
        const row = rows.find((r) => r.field === field);
        if (row?.value == null) continue;
        out[name] = decodeProfileValue(this.#vault.decryptField(identityId, field, dataKey, row.value));
      }
      return out as IdentityProfileFields;
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * Writes one register outside the profile (a lifecycle register), encrypted with the data key
   * like every field. False when the identity is no longer live: nothing is written then.
   */
  writeRegister(identityId: string, field: string, value: unknown): boolean {
    const dataKey = this.#dataKey(identityId);
    if (dataKey === undefined) return false;
    const plain = encodeProfileValue(value);
    try {
      this.#db
        .prepare(
          `INSERT INTO identity_fields (identity_id, field, hlc, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (identity_id, field) DO UPDATE SET hlc = excluded.hlc, value = excluded.value WHERE excluded.hlc > identity_fields.hlc`,
        )
        .run(identityId, field, encodeHlc(this.#hlc.now()), this.#vault.encryptField(identityId, field, dataKey, plain));
      return true;
    } finally {
      plain.fill(0);
      dataKey.fill(0);
    }
  }

  /** The registers whose name starts with `prefix`, decrypted; empty once the identity is deleted. */
  readRegisters(identityId: string, prefix: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const rows = this.#db
      .prepare("SELECT field, value FROM identity_fields WHERE identity_id = ? AND substr(field, 1, ?) = ? AND value IS NOT NULL")
      .all(identityId, prefix.length, prefix) as { field: string; value: Uint8Array }[];
    if (rows.length === 0) return out;
    const dataKey = this.#dataKey(identityId);
    if (dataKey === undefined) return out;
    try {
      for (const row of rows) out.set(row.field, decodeProfileValue(this.#vault.decryptField(identityId, row.field, dataKey, row.value)));
      return out;
    } finally {
      dataKey.fill(0);
    }
  }

  findByPhone(phone: string): string | undefined {
    const row = this.#db.prepare("SELECT identity_id AS id FROM phone_index WHERE phone_hash = ?").get(this.#phoneHash(phone)) as { id: string } | undefined;
    return row?.id;
  }

  /** The live identity's data key (the caller zeroes it); undefined once deleted. */
  #dataKey(identityId: string): Uint8Array | undefined {
    const live = this.#db.prepare("SELECT 1 AS live FROM identities WHERE identity_id = ? AND deleted_hlc IS NULL").get(identityId) !== undefined;
    return live ? this.#keys.key(identityId) : undefined;
  }
}
