// The identity registry: the region's source of truth for who is enrolled. FAISS shards are
// derived from it and rebuilt from it; nothing is identifiable unless it is here and live.
import type { DatabaseSync } from "node:sqlite";
import { encodeHlc, type HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import type { IdentityId } from "../../core/ids.ts";
import { decodePalmTemplate, encodePalmTemplate, type PalmTemplate } from "../../core/palm-template.ts";
import { DataKeyStore } from "../storage/data-key-store.ts";
import { prepared } from "../storage/prepared-statements.ts";
import { writeTransaction } from "../storage/sqlite-transaction.ts";
import type { IdentityVault } from "../storage/identity-vault.ts";

export const TEMPLATE_FIELD = "palm_template";

export interface EnrolledTemplate {
  readonly identityId: IdentityId;
  readonly template: PalmTemplate;
  /** The identity's row in the registry: rows only ever get larger ids, so it orders enrollment. */
  readonly rowid: number;
}

type TemplateRow = { id: string; rowid: number; wrapped: Uint8Array; value: Uint8Array };

export class IdentityRegistry {
  readonly #db: DatabaseSync;
  readonly #vault: IdentityVault;
  readonly #hlc: HybridLogicalClock;
  readonly #regionId: string;
  readonly #keys: DataKeyStore;

  constructor(options: { db: DatabaseSync; vault: IdentityVault; hlc: HybridLogicalClock; regionId: string }) {
    this.#db = options.db;
    this.#vault = options.vault;
    this.#hlc = options.hlc;
    this.#regionId = options.regionId;
    this.#keys = new DataKeyStore({ db: options.db, vault: options.vault });
  }

  /** Persists a new identity and its template: its data key first, then the identity in one transaction. */
  enroll(identityId: IdentityId, template: PalmTemplate, nowMs: number): void {
    this.enrollMany([{ identityId, template }], nowMs);
  }

  /**
   * Persists many identities (bulk import): their data keys in one commit, then the identities in
   * another, so a crash between the two leaves only orphan keys (swept at the next open), never an
   * identity without its key. An id already enrolled is refused before anything is written.
   */
  enrollMany(entries: readonly { identityId: IdentityId; template: PalmTemplate }[], nowMs: number): void {
    const keys = entries.map(({ identityId }) => ({ identityId, dataKey: this.#vault.newDataKey() }));
    const sealed = entries.map(({ identityId, template }, i) => {
      const clear = encodePalmTemplate(template);
      try {
        return { identityId, stamp: encodeHlc(this.#hlc.now()), ciphertext: this.#vault.encryptField(identityId, TEMPLATE_FIELD, keys[i]!.dataKey, clear) };
      } finally {
        clear.fill(0);
      }
    });
    try {
      this.#keys.store(keys);
    } finally {
      for (const { dataKey } of keys) dataKey.fill(0);
    }
    try {
      this.#transaction(() => {
        const identity = this.#db.prepare("INSERT INTO identities (identity_id, origin_region, created_hlc, last_seen_ms) VALUES (?, ?, ?, ?)");
        const field = this.#db.prepare("INSERT INTO identity_fields (identity_id, field, hlc, value) VALUES (?, ?, ?, ?)");
        for (const row of sealed) {
          identity.run(row.identityId, this.#regionId, row.stamp, nowMs);
          field.run(row.identityId, TEMPLATE_FIELD, row.stamp, row.ciphertext);
        }
      });
    } catch (error) {
      this.#keys.destroy(keys.map((k) => k.identityId));
      throw error;
    }
  }

  /**
   * Raises last-seen (a max-register: an older time never lowers it). Committed without waiting
   * for fsync (synchronous=NORMAL for this one statement; WAL keeps it atomic): it is written on
   * every identification, a fsync each would cap identifications at the disk's flush rate, and a
   * last-seen lost to a power cut only delays a two-year expiry by seconds. The next
   * synchronous=FULL commit (any enrollment) makes it durable too.
   */
  recordSeen(identityId: IdentityId, nowMs: number): void {
    this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      // Only a rise is a change: an unchanged last-seen must not enter the replication feed.
      prepared(this.#db, "UPDATE identities SET last_seen_ms = ? WHERE identity_id = ? AND deleted_hlc IS NULL AND last_seen_ms < ?")
        .run(nowMs, identityId, nowMs);
    } finally {
      this.#db.exec("PRAGMA synchronous = FULL");
    }
  }

  isLive(identityId: string): boolean {
    const row = prepared(this.#db, "SELECT deleted_hlc FROM identities WHERE identity_id = ?").get(identityId) as
      | { deleted_hlc: string | null }
      | undefined;
    return row !== undefined && row.deleted_hlc === null;
  }

  liveCount(): number {
    const row = prepared(this.#db, "SELECT COUNT(*) AS n FROM identities WHERE deleted_hlc IS NULL").get() as { n: number };
    return row.n;
  }

  /** The largest registry row id so far: the watermark an index snapshot records it covers. */
  watermark(): number {
    const row = this.#db.prepare("SELECT COALESCE(MAX(rowid), 0) AS w FROM identities").get() as { w: number };
    return row.w;
  }

  /** Every live identity with its decrypted template, in enrollment order, after a watermark. */
  *liveTemplates(afterRowid = 0): Generator<EnrolledTemplate> {
    const rows = this.#db
      .prepare(
        `SELECT i.identity_id AS id, i.rowid AS rowid, k.wrapped AS wrapped, f.value AS value
           FROM identities i JOIN identity_fields f ON f.identity_id = i.identity_id AND f.field = ?
                             JOIN keys.data_keys k ON k.identity_id = i.identity_id
          WHERE i.deleted_hlc IS NULL AND i.rowid > ? ORDER BY i.rowid`,
      )
      .iterate(TEMPLATE_FIELD, afterRowid) as Iterable<TemplateRow>;
    for (const row of rows) yield this.#open(row);
  }

  /** Live identities' templates (decrypted), in the order asked; deleted or unknown ids are left out. */
  templatesOf(identityIds: readonly string[]): EnrolledTemplate[] {
    const query = prepared(
      this.#db,
      `SELECT i.identity_id AS id, i.rowid AS rowid, k.wrapped AS wrapped, f.value AS value
         FROM identities i JOIN identity_fields f ON f.identity_id = i.identity_id AND f.field = ?
                           JOIN keys.data_keys k ON k.identity_id = i.identity_id
        WHERE i.identity_id = ? AND i.deleted_hlc IS NULL`,
    );
    const out: EnrolledTemplate[] = [];
    for (const id of identityIds) {
      const row = query.get(TEMPLATE_FIELD, id) as TemplateRow | undefined;
      if (row !== undefined) out.push(this.#open(row));
    }
    return out;
  }

  /** Live templates at random rows (training samples for a learned index); reads only those rows. */
  sampleTemplates(count: number, random: () => number = Math.random): EnrolledTemplate[] {
    const top = this.watermark();
    const live = this.liveCount();
    if (live <= count) return [...this.liveTemplates()];
    const query = this.#db.prepare(
      `SELECT i.identity_id AS id, i.rowid AS rowid, k.wrapped AS wrapped, f.value AS value
         FROM identities i JOIN identity_fields f ON f.identity_id = i.identity_id AND f.field = ?
                           JOIN keys.data_keys k ON k.identity_id = i.identity_id
        WHERE i.rowid = ? AND i.deleted_hlc IS NULL`,
    );
    const picked = new Set<number>();
    const out: EnrolledTemplate[] = [];
    for (let attempts = 0; out.length < count && attempts < count * 20; attempts++) {
      const rowid = 1 + Math.floor(random() * top);
      if (picked.has(rowid)) continue;
      picked.add(rowid);
      const row = query.get(TEMPLATE_FIELD, rowid) as TemplateRow | undefined;
      if (row !== undefined) out.push(this.#open(row));
    }
    return out;
  }

  /** Every live identity id (no decryption): what the shards must hold, no more and no less. */
  liveIdentityIds(): IdentityId[] {
    const rows = this.#db.prepare("SELECT identity_id AS id FROM identities WHERE deleted_hlc IS NULL").all() as { id: string }[];
    return rows.map((r) => r.id as IdentityId);
  }

  #open(row: TemplateRow): EnrolledTemplate {
    const dataKey = this.#vault.unwrapDataKey(row.id, row.wrapped);
    const plain = this.#vault.decryptField(row.id, TEMPLATE_FIELD, dataKey, row.value);
    dataKey.fill(0);
    try {
      return { identityId: row.id as IdentityId, template: decodePalmTemplate(plain), rowid: row.rowid };
    } finally {
      plain.fill(0);
    }
  }

  #transaction(work: () => void): void {
    writeTransaction(this.#db, work);
  }
}
