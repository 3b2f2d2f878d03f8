// The registry as one replica of the federation's CRDT (docs/architecture.md, "Storage and crash consistency"; docs/replication.md): what
// this region has changed since a point in its feed, the merge of records received from other
// regions, digests for anti-entropy, tombstone pruning, and what it knows of its peers.
//
// The feed is ordered by identities.change_seq, which SQLite triggers raise from one region-wide
// counter on every change (registry-database.ts), so no write path can leave a change out of it.
// Records travel whole (state, not operations): receiving one twice, late or out of order
// changes nothing more than receiving it once.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { Data } from "effect";
import { mergeIdentityRecords, type FieldRegister, type IdentityRecord } from "../../core/identity-record-crdt.ts";
import { decodeHlc, encodeHlc, type HlcTimestamp, type HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import type { IdentityId } from "../../core/ids.ts";
import { TEMPLATE_FIELD } from "../registry/identity-registry.ts";
import { decodeProfileValue, PHONE_FIELD } from "../registry/identity-profile.ts";
import { DataKeyStore } from "../storage/data-key-store.ts";
import { prepared } from "../storage/prepared-statements.ts";
import { writeTransaction } from "../storage/sqlite-transaction.ts";
import type { IdentityVault } from "../storage/identity-vault.ts";
import { bucketOf, recordDigest, RegistryDigests, type BucketDigest } from "./replica-digest.ts";
import { DATA_KEY_BYTES, ReplicatedRecordInvalid, toIdentityRecord, type ReplicatedField, type ReplicatedRecord } from "./replicated-record.ts";

export { REPLICA_BUCKETS } from "./replica-digest.ts";

/** Where a repair stopped: the last record sent, by bucket and identity id. */
export interface RepairPosition {
  readonly bucket: number;
  readonly identityId: string;
}

export class ReplicaPeerUnknown extends Data.TaggedError("ReplicaPeerUnknown")<{ readonly regionId: string }> {
  override get message() {
    return `region ${this.regionId} has no pinned key: pin it before recording its progress`;
  }
}

export interface ApplyOutcome {
  /** Records whose stored state changed. */
  readonly changed: number;
  /** Live identities whose template is new or changed here: to (re)index. */
  readonly live: IdentityId[];
  /** Identities that were live here and are tombstoned now: to take out of the shards. */
  readonly removed: IdentityId[];
  /**
   * Identities whose record here is now exactly the one received, with the change number it has
   * here: the sender holds that state already, so the feed need not send it back (unless it
   * changes again).
   */
  readonly adopted: ReadonlyMap<string, number>;
}

/** A record as the change feed gives it: with its place in the feed. */
export type ChangedRecord = ReplicatedRecord & { readonly changeSeq: number };

export interface PeerState {
  readonly regionId: string;
  readonly publicKey: Uint8Array;
  /** The peer has applied this region's feed up to here. */
  readonly ackedSeq: number;
  /** This region has applied the peer's feed up to here. */
  readonly appliedSeq: number;
  readonly lastContactMs: number | null;
}

type IdentityRow = { id: string; origin: string; created: string; lastSeen: number; deleted: string | null; seq: number };

/** Overhead counted per record and per field when a batch is cut by size (ids, stamps, framing). */
const RECORD_OVERHEAD_BYTES = 160;
const FIELD_OVERHEAD_BYTES = 48;

const IDENTITY_COLUMNS = `i.identity_id AS id, i.origin_region AS origin, i.created_hlc AS created, i.last_seen_ms AS lastSeen,
                          i.deleted_hlc AS deleted, i.change_seq AS seq`;

export class RegistryReplica {
  readonly #db: DatabaseSync;
  readonly #vault: IdentityVault;
  readonly #hlc: HybridLogicalClock;
  readonly #regionId: string;
  readonly #phoneHash: (phone: string) => string;
  readonly #keys: DataKeyStore;
  /** Every live record's digest, folded into its bucket's: refreshed from the change feed (see #digest). */
  #digests = new RegistryDigests();
  /** The feed position the digests are up to date with; -1 before the first digest. */
  #digestSeq = -1;
  /** Digests apply() computed for records it wrote (null: tombstoned), for the next refresh to use instead of reading them. */
  readonly #digestHints = new Map<string, { readonly seq: number; readonly digest: Buffer | null }>();

  constructor(o: { db: DatabaseSync; vault: IdentityVault; hlc: HybridLogicalClock; regionId: string; phoneHash: (phone: string) => string }) {
    this.#db = o.db;
    this.#vault = o.vault;
    this.#hlc = o.hlc;
    this.#regionId = o.regionId;
    this.#phoneHash = o.phoneHash;
    this.#keys = new DataKeyStore({ db: o.db, vault: o.vault });
  }

  get regionId(): string {
    return this.#regionId;
  }

  /** The last change number this region has given out (0 before any change). */
  latestSeq(): number {
    const row = this.#statement("SELECT seq FROM change_counter").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /**
   * Records changed after `afterSeq`, in change order, each in its current state. A batch is cut
   * at maxRecords or (after its first record) maxBytes; `upToSeq` is where the next call starts,
   * and covers numbers no record holds any more (pruned tombstones) when the batch is complete.
   */
  changesSince(afterSeq: number, limits: { maxRecords?: number; maxBytes?: number } = {}): { records: ChangedRecord[]; upToSeq: number; more: boolean } {
    const maxRecords = limits.maxRecords ?? Number.POSITIVE_INFINITY;
    const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
    const latest = this.latestSeq();
    const records: ChangedRecord[] = [];
    let bytes = 0;
    let upToSeq = afterSeq;
    const rows = this.#statement(`SELECT ${IDENTITY_COLUMNS} FROM identities i WHERE i.change_seq > ? ORDER BY i.change_seq`)
      .iterate(afterSeq) as IterableIterator<IdentityRow>;
    for (const row of rows) {
      if (records.length >= maxRecords) {
        rows.return?.();
        return { records, upToSeq, more: true };
      }
      const record = { ...this.#withKey(this.#assemble(row, this.#fieldsOf(row.id))), changeSeq: row.seq };
      const size = RECORD_OVERHEAD_BYTES + record.fields.reduce((n, f) => n + FIELD_OVERHEAD_BYTES + (f.value?.byteLength ?? 0), 0);
      if (records.length > 0 && bytes + size > maxBytes) {
        rows.return?.();
        return { records, upToSeq, more: true };
      }
      records.push(record);
      bytes += size;
      upToSeq = row.seq;
    }
    return { records, upToSeq: Math.max(upToSeq, latest), more: false };
  }

  /**
   * Merges received records into the registry (the CRDT merge of core/identity-record-crdt.ts).
   * Three commits, in the order a crash cannot turn into a live identity without its key:
   * missing data keys (re-wrapped with this region's storage key), then every record in one
   * transaction (phone index kept in step; a tombstone drops fields, phone index and
   * entitlements), then the keys of tombstoned identities are destroyed.
   */
  apply(records: readonly ReplicatedRecord[]): ApplyOutcome {
    const incoming = new Map<string, { record: IdentityRecord; origin: string; dataKey: Uint8Array | undefined }>();
    for (const r of records) {
      this.#validate(r);
      this.#observe(r);
      const record = toIdentityRecord(r);
      const seen = incoming.get(r.identityId);
      incoming.set(
        r.identityId,
        seen === undefined
          ? { record, origin: r.originRegion, dataKey: r.dataKey }
          : { record: mergeIdentityRecords(seen.record, record), origin: seen.origin, dataKey: seen.dataKey ?? r.dataKey },
      );
    }

    const plans = [...incoming.entries()].map(([id, { record, origin, dataKey }]) => {
      const row = this.#identityRow(id);
      const current = row === undefined ? undefined : this.#assemble(row, this.#fieldsOf(id));
      const currentRecord = current === undefined ? undefined : toIdentityRecord(current);
      const merged = mergeIdentityRecords(currentRecord ?? record, record);
      const mergedDigest = recordDigest(merged);
      const cached = row === undefined ? undefined : this.#digests.get(id);
      const currentDigest = currentRecord === undefined ? undefined : cached !== undefined && cached.seq === row!.seq ? cached.digest : recordDigest(currentRecord);
      const changed = currentDigest === undefined || !currentDigest.equals(mergedDigest);
      // Nothing here that the sender lacks: its record is the merge (the common case, a record
      // new here or newer than ours), so sending it back would only echo.
      const adopted = currentRecord === undefined || mergedDigest.equals(recordDigest(record));
      const live = merged.tombstone === undefined;
      const hasKey = live && this.#keys.has(id);
      if (live && !hasKey && dataKey === undefined) throw new ReplicatedRecordInvalid({ identityId: id, reason: "a live record arrived without its data key" });
      return { id, origin: row?.origin ?? origin, current: currentRecord, merged, mergedDigest, changed, adopted, seq: row?.seq, live, needsKey: live && !hasKey, dataKey };
    });

    const newKeys = plans.filter((p) => p.needsKey).map((p) => ({ identityId: p.id, dataKey: p.dataKey! }));
    this.#keys.storeMissing(newKeys);

    const outcome: Omit<ApplyOutcome, "adopted"> = { changed: 0, live: [], removed: [] };
    let changed = 0;
    try {
      this.#transaction(() => {
        for (const plan of plans) {
          if (!plan.changed) continue;
          changed++;
          this.#write(plan.id, plan.origin, plan.current, plan.merged);
          if (plan.live && registerChanged(plan.current, plan.merged, TEMPLATE_FIELD)) outcome.live.push(plan.id as IdentityId);
          if (!plan.live && plan.current !== undefined && plan.current.tombstone === undefined) outcome.removed.push(plan.id as IdentityId);
        }
      });
    } catch (error) {
      this.#keys.destroy(newKeys.map((k) => k.identityId));
      throw error;
    }
    this.#keys.destroy(plans.filter((p) => !p.live).map((p) => p.id));
    // The merged records' digests are known: remember them under their new change numbers, so the
    // next digest need not read these records again.
    const adopted = new Map<string, number>();
    const seqOf = this.#statement("SELECT change_seq AS seq FROM identities WHERE identity_id = ?");
    for (const plan of plans) {
      const seq = plan.changed ? (seqOf.get(plan.id) as { seq: number } | undefined)?.seq : plan.seq;
      if (seq === undefined) continue;
      if (plan.changed && this.#digestSeq >= 0) this.#digestHints.set(plan.id, { seq, digest: plan.live ? plan.mergedDigest : null });
      if (plan.adopted) adopted.set(plan.id, seq);
    }
    return { ...outcome, changed, adopted };
  }

  /**
   * Hex sha-256 over the live records' digests, by bucket: equal in two regions exactly when they
   * hold the same live records. Tombstones are left out (replica-digest.ts says why).
   */
  digest(): string {
    return this.#digest().whole();
  }

  /** One digest per bucket of ids (REPLICA_BUCKETS of them, empty ones included), over live records. */
  bucketDigests(): BucketDigest[] {
    return this.#digest().buckets();
  }

  /**
   * Brings the digests up to date by reading only what changed since the last call (the feed's
   * index makes that cheap); the first call, or one that finds live rows it cannot account for,
   * reads everything. A deletion moves the record in the feed, which takes it out here; pruning
   * removes only tombstones, which were never in.
   */
  #digest(): RegistryDigests {
    const latest = this.latestSeq();
    if (this.#digestSeq >= 0 && latest > this.#digestSeq) {
      const changed = this.#statement("SELECT identity_id AS id, change_seq AS seq FROM identities WHERE change_seq > ?").all(this.#digestSeq) as { id: string; seq: number }[];
      for (const { id, seq } of changed) this.#foldIn(id, seq);
    }
    const { n } = this.#statement("SELECT COUNT(*) AS n FROM identities WHERE deleted_hlc IS NULL").get() as { n: number };
    if (this.#digestSeq < 0 || n !== this.#digests.size) {
      this.#digests = new RegistryDigests();
      const all = this.#statement("SELECT identity_id AS id, change_seq AS seq FROM identities WHERE deleted_hlc IS NULL").all() as { id: string; seq: number }[];
      for (const { id, seq } of all) this.#foldIn(id, seq);
    }
    this.#digestSeq = latest;
    this.#digestHints.clear();
    return this.#digests;
  }

  #foldIn(id: string, seq: number): void {
    const hint = this.#digestHints.get(id);
    if (hint !== undefined && hint.seq === seq) return hint.digest === null ? this.#digests.remove(id) : this.#digests.put(id, hint.digest, seq);
    const row = this.#identityRow(id);
    if (row === undefined || row.deleted !== null) return this.#digests.remove(id);
    this.#digests.put(id, recordDigest(toIdentityRecord(this.#assemble(row, this.#fieldsOf(id)))), row.seq);
  }

  #statement(sql: string): StatementSync {
    return prepared(this.#db, sql);
  }



  /**
   * Every record (live ones with their data key) whose id falls in one of the buckets, in (bucket,
   * id) order, optionally after a position a reader stopped at earlier: a big repair is sent over
   * several rounds, each going on where the last stopped instead of sending the same records again.
   */
  *recordsInBuckets(buckets: readonly number[], after?: RepairPosition): Iterable<ReplicatedRecord & { readonly bucket: number }> {
    const wanted = new Set(buckets);
    const beyond = (r: RepairPosition) => after === undefined || r.bucket > after.bucket || (r.bucket === after.bucket && r.identityId > after.identityId);
    const ids = (this.#statement("SELECT identity_id AS id FROM identities ORDER BY identity_id").all() as { id: string }[])
      .map((r) => ({ identityId: r.id, bucket: bucketOf(r.id) }))
      .filter((r) => wanted.has(r.bucket) && beyond(r))
      .sort((x, y) => x.bucket - y.bucket || (x.identityId < y.identityId ? -1 : x.identityId > y.identityId ? 1 : 0));
    for (const { identityId, bucket } of ids) {
      const row = this.#identityRow(identityId);
      if (row !== undefined) yield { ...this.#withKey(this.#assemble(row, this.#fieldsOf(identityId))), bucket };
    }
  }

  /** What a key is to a region id before anything is pinned: a dialer checks this, and pins only once the federation proof holds. */
  peerKeyStatus(regionId: string, publicKey: Uint8Array): "unknown" | "matches" | "mismatch" {
    const row = this.#statement("SELECT public_key AS key FROM replica_peers WHERE region_id = ?").get(regionId) as { key: Uint8Array } | undefined;
    if (row === undefined) return "unknown";
    return Buffer.from(row.key).equals(Buffer.from(publicKey)) ? "matches" : "mismatch";
  }

  /** Trust on first use: the first key seen for a region is kept; later ones must match it. */
  pinPeerKey(regionId: string, publicKey: Uint8Array): "pinned" | "matches" | "mismatch" {
    const row = this.#statement("SELECT public_key AS key FROM replica_peers WHERE region_id = ?").get(regionId) as { key: Uint8Array } | undefined;
    if (row === undefined) {
      this.#statement("INSERT INTO replica_peers (region_id, public_key) VALUES (?, ?)").run(regionId, publicKey);
      return "pinned";
    }
    return Buffer.from(row.key).equals(Buffer.from(publicKey)) ? "matches" : "mismatch";
  }

  peerStates(): PeerState[] {
    const rows = this.#statement("SELECT region_id, public_key, acked_seq, applied_seq, last_contact_ms FROM replica_peers ORDER BY region_id")
      .all() as { region_id: string; public_key: Uint8Array; acked_seq: number; applied_seq: number; last_contact_ms: number | null }[];
    return rows.map((r) => ({ regionId: r.region_id, publicKey: r.public_key, ackedSeq: r.acked_seq, appliedSeq: r.applied_seq, lastContactMs: r.last_contact_ms }));
  }

  /** The peer has applied this region's feed up to `seq` (never moves back). */
  recordAcked(regionId: string, seq: number, nowMs: number): void {
    this.#progress(regionId, "acked_seq", seq, nowMs);
  }

  /** This region has applied the peer's feed up to `seq` (never moves back). */
  recordApplied(regionId: string, seq: number, nowMs: number): void {
    this.#progress(regionId, "applied_seq", seq, nowMs);
  }

  /** Where to resume the peer's feed: 0 for a region never heard from. */
  appliedSeq(regionId: string): number {
    const row = this.#statement("SELECT applied_seq AS seq FROM replica_peers WHERE region_id = ?").get(regionId) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /**
   * Removes tombstones every required peer has acknowledged (its acked_seq has reached the
   * tombstone's change_seq): none of them can send the live record back any more. With no
   * required peers, every tombstone goes. Rowids are never reused (AUTOINCREMENT).
   */
  pruneTombstones(requiredPeers: readonly string[]): number {
    const acked = requiredPeers.map((p) => {
      const row = this.#statement("SELECT acked_seq AS seq FROM replica_peers WHERE region_id = ?").get(p) as { seq: number } | undefined;
      return row?.seq ?? 0;
    });
    const upTo = acked.length === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...acked);
    const ids = (
      this.#statement("SELECT identity_id AS id FROM identities WHERE deleted_hlc IS NOT NULL AND change_seq <= ?").all(upTo) as { id: string }[]
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    this.#transaction(() => {
      const remove = this.#statement("DELETE FROM identities WHERE identity_id = ? AND deleted_hlc IS NOT NULL");
      const fields = this.#statement("DELETE FROM identity_fields WHERE identity_id = ?");
      for (const id of ids) {
        fields.run(id);
        remove.run(id);
      }
    });
    this.#keys.destroy(ids);
    return ids.length;
  }

  tombstoneCount(): number {
    return (this.#statement("SELECT COUNT(*) AS n FROM identities WHERE deleted_hlc IS NOT NULL").get() as { n: number }).n;
  }

  /**
   * Committed without waiting for fsync (synchronous=NORMAL for this one statement; WAL keeps it
   * atomic): it is written on every batch each way, and a position lost to a power cut only means
   * some records are sent again (merging is idempotent) or a tombstone is pruned a little later.
   */
  #progress(regionId: string, column: "acked_seq" | "applied_seq", seq: number, nowMs: number): void {
    this.#db.exec("PRAGMA main.synchronous = NORMAL");
    try {
      const result = this.#statement(`UPDATE replica_peers SET ${column} = MAX(${column}, ?), last_contact_ms = ? WHERE region_id = ?`).run(seq, nowMs, regionId);
      if (Number(result.changes) === 0) throw new ReplicaPeerUnknown({ regionId });
    } finally {
      this.#db.exec("PRAGMA main.synchronous = FULL");
    }
  }

  #validate(r: ReplicatedRecord): void {
    if (r.dataKey !== undefined && r.dataKey.byteLength !== DATA_KEY_BYTES) {
      throw new ReplicatedRecordInvalid({ identityId: r.identityId, reason: `data key is ${r.dataKey.byteLength} bytes, not ${DATA_KEY_BYTES}` });
    }
    if (r.tombstone === undefined && r.dataKey === undefined) throw new ReplicatedRecordInvalid({ identityId: r.identityId, reason: "a live record arrived without its data key" });
    const names = new Set(r.fields.map((f) => f.name));
    if (names.size !== r.fields.length) throw new ReplicatedRecordInvalid({ identityId: r.identityId, reason: "a field appears twice" });
  }

  /** Every stamp received moves this region's clock past it, so later local writes order after it. */
  #observe(r: ReplicatedRecord): void {
    this.#hlc.observe(r.created);
    if (r.tombstone !== undefined) this.#hlc.observe(r.tombstone);
    for (const f of r.fields) this.#hlc.observe(f.stamp);
  }

  #write(id: string, origin: string, current: IdentityRecord | undefined, merged: IdentityRecord): void {
    const tombstone = merged.tombstone === undefined ? null : encodeHlc(merged.tombstone);
    if (current === undefined) {
      this.#statement("INSERT INTO identities (identity_id, origin_region, created_hlc, last_seen_ms, deleted_hlc) VALUES (?, ?, ?, ?, ?)")
        .run(id, origin, encodeHlc(merged.created), merged.lastSeenMs, tombstone);
    } else {
      this.#statement("UPDATE identities SET created_hlc = ?, last_seen_ms = ?, deleted_hlc = ? WHERE identity_id = ?")
        .run(encodeHlc(merged.created), merged.lastSeenMs, tombstone, id);
    }
    if (merged.tombstone !== undefined) {
      this.#statement("DELETE FROM identity_fields WHERE identity_id = ?").run(id);
      this.#statement("DELETE FROM phone_index WHERE identity_id = ?").run(id);
      this.#statement("DELETE FROM entitlements WHERE identity_id = ?").run(id);
      this.#statement("UPDATE deletion_requests SET completed_ms = ? WHERE identity_id = ? AND completed_ms IS NULL").run(merged.tombstone.wallMs, id);
      return;
    }
    const upsert = this.#statement(
      `INSERT INTO identity_fields (identity_id, field, hlc, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (identity_id, field) DO UPDATE SET hlc = excluded.hlc, value = excluded.value`,
    );
    for (const [name, register] of Object.entries(merged.fields)) {
      if (registerChanged(current, merged, name)) upsert.run(id, name, encodeHlc(register.stamp), register.value);
    }
    if (registerChanged(current, merged, PHONE_FIELD)) this.#indexPhone(id, merged.fields[PHONE_FIELD]);
  }

  /** This region's phone index follows the phone register, under this region's own keyed hash. */
  #indexPhone(id: string, register: FieldRegister | undefined): void {
    this.#statement("DELETE FROM phone_index WHERE identity_id = ?").run(id);
    if (register?.value == null) return;
    const dataKey = this.#keys.key(id);
    if (dataKey === undefined) return;
    try {
      const plain = this.#vault.decryptField(id, PHONE_FIELD, dataKey, register.value);
      const phone = decodeProfileValue(plain);
      plain.fill(0);
      if (typeof phone === "string") this.#statement("INSERT OR REPLACE INTO phone_index (phone_hash, identity_id) VALUES (?, ?)").run(this.#phoneHash(phone), id);
    } finally {
      dataKey.fill(0);
    }
  }

  #identityRow(id: string): IdentityRow | undefined {
    return this.#statement(`SELECT ${IDENTITY_COLUMNS} FROM identities i WHERE i.identity_id = ?`).get(id) as IdentityRow | undefined;
  }

  #fieldsOf(id: string): ReplicatedField[] {
    const rows = this.#statement("SELECT field, hlc, value FROM identity_fields WHERE identity_id = ? ORDER BY field").all(id) as {
      field: string;
      hlc: string;
      value: Uint8Array | null;
    }[];
    return rows.map((r) => ({ name: r.field, stamp: decodeHlc(r.hlc), value: r.value }));
  }

  #assemble(row: IdentityRow, fields: readonly ReplicatedField[]): ReplicatedRecord {
    const tombstone: HlcTimestamp | undefined = row.deleted === null ? undefined : decodeHlc(row.deleted);
    return {
      identityId: row.id,
      originRegion: row.origin,
      created: decodeHlc(row.created),
      lastSeenMs: row.lastSeen,
      tombstone,
      dataKey: undefined,
      // Canonical form: a tombstoned record has no fields, whatever rows a crash may have left.
      fields: tombstone === undefined ? fields : [],
    };
  }

  #withKey(record: ReplicatedRecord): ReplicatedRecord {
    return record.tombstone === undefined ? { ...record, dataKey: this.#keys.key(record.identityId) } : record;
  }

  #transaction(work: () => void): void {
    writeTransaction(this.#db, work);
  }
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null) => (a === null || b === null ? a === b : Buffer.from(a).equals(Buffer.from(b)));

/** Whether the merge changed one register compared with what was stored. */
const registerChanged = (current: IdentityRecord | undefined, merged: IdentityRecord, name: string): boolean => {
  const after = merged.fields[name];
  const before = current?.fields[name];
  if (after === undefined || before === undefined) return after !== before;
  return encodeHlc(after.stamp) !== encodeHlc(before.stamp) || !sameBytes(after.value, before.value);
};

