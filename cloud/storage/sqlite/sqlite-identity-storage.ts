// Identity state in the region's SQLite database (registry-database.ts has the schema): the
// embedded default layer of cloud/storage/identity-storage.ts. Change numbers come from the
// schema's triggers, so no statement here can leave a change out of the feed; data keys live in
// the attached `keys` file and commit on their own (data-key-file.ts says why).
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { Effect, Layer } from "effect";
import {
  IdentityStorage,
  IdentityStorageFailure,
  StoredPeerUnknown,
  type IdentityStorageShape,
  type IdentityWrite,
  type StoredEntitlement,
  type StoredField,
  type StoredIdentity,
  type StoredPeer,
  type StoredRecord,
  type StoredSealedField,
} from "../identity-storage.ts";
import { destroyDataKeys, sweepOrphanDataKeys } from "./data-key-file.ts";
import { prepared } from "./prepared-statements.ts";
import { RegionDatabase } from "./region-database.ts";
import { writeTransaction } from "./sqlite-transaction.ts";

type IdentityRow = {
  id: string;
  rowId: number;
  origin: string;
  created: string;
  lastSeen: number;
  deleted: string | null;
  deletedReason: string | null;
  deletedSignature: Uint8Array | null;
  seq: number;
};
type EntitlementRow = {
  entitlement_id: string;
  identity_id: string;
  kind: string;
  venue_id: string;
  label: string;
  valid_from_ms: number;
  valid_until_ms: number;
  entries_allowed: number | null;
  entries_used: number;
  schedule: string | null;
  revoked_ms: number | null;
};

const IDENTITY_COLUMNS = `identity_id AS id, row_id AS rowId, origin_region AS origin, created_hlc AS created, last_seen_ms AS lastSeen,
                          deleted_hlc AS deleted, deleted_reason AS deletedReason, deleted_signature AS deletedSignature, change_seq AS seq`;
const SEALED_FIELD = `SELECT i.identity_id AS identityId, i.row_id AS rowId, f.value AS value, k.wrapped AS wrappedKey
                        FROM identities i JOIN identity_fields f ON f.identity_id = i.identity_id AND f.field = ?
                                          JOIN keys.data_keys k ON k.identity_id = i.identity_id
                       WHERE i.deleted_hlc IS NULL AND f.value IS NOT NULL`;
/** Live and not waiting on a deletion request: what expiry is responsible for. */
const SWEEPABLE = `deleted_hlc IS NULL
  AND NOT EXISTS (SELECT 1 FROM deletion_requests d WHERE d.identity_id = identities.identity_id AND d.completed_ms IS NULL)`;

const toIdentity = (row: IdentityRow): StoredIdentity => ({
  identityId: row.id,
  rowId: row.rowId,
  originRegion: row.origin,
  created: row.created,
  lastSeenMs: row.lastSeen,
  tombstone: row.deleted,
  tombstoneReason: row.deletedReason,
  tombstoneSignature: row.deletedSignature,
  changeSeq: row.seq,
});

const toEntitlement = (row: EntitlementRow): StoredEntitlement => ({
  entitlementId: row.entitlement_id,
  identityId: row.identity_id,
  kind: row.kind,
  venueId: row.venue_id,
  label: row.label,
  validFromMs: row.valid_from_ms,
  validUntilMs: row.valid_until_ms,
  entriesAllowed: row.entries_allowed,
  entriesUsed: row.entries_used,
  schedule: row.schedule,
  revokedMs: row.revoked_ms,
});

/** Identity storage over an open registry database (registry-database.ts). */
export const sqliteIdentityStorage = (db: DatabaseSync): IdentityStorageShape => {
  const statement = (sql: string): StatementSync => prepared(db, sql);
  const run = <A>(operation: string, work: () => A): Effect.Effect<A, IdentityStorageFailure> =>
    Effect.try({ try: work, catch: (cause) => new IdentityStorageFailure({ operation, cause }) });
  /**
   * Commits without waiting for fsync (synchronous=NORMAL for this one statement; WAL keeps it
   * atomic): for writes made on every identification or feed batch, whose loss to a power cut
   * costs nothing but a little delay.
   */
  const unflushed = <A>(work: () => A): A => {
    db.exec("PRAGMA main.synchronous = NORMAL");
    try {
      return work();
    } finally {
      db.exec("PRAGMA main.synchronous = FULL");
    }
  };
  const fieldsOf = (id: string): StoredField[] =>
    (
      statement("SELECT field AS name, hlc AS stamp, value, signature FROM identity_fields WHERE identity_id = ? ORDER BY field").all(
        id,
      ) as unknown as StoredField[]
    ).map((f) => ({ name: f.name, stamp: f.stamp, value: f.value, signature: f.signature }));
  const recordOf = (row: IdentityRow): StoredRecord => ({ ...toIdentity(row), fields: row.deleted === null ? fieldsOf(row.id) : [] });
  const identityRow = (id: string) => statement(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE identity_id = ?`).get(id) as IdentityRow | undefined;
  const sealed = (rows: unknown[]): StoredSealedField[] => rows as StoredSealedField[];

  const write = (w: IdentityWrite): void => {
    const { originRegion, created, lastSeenMs, tombstone, tombstoneReason, tombstoneSignature } = w.identity;
    if (identityRow(w.identityId) === undefined) {
      statement(
        "INSERT INTO identities (identity_id, origin_region, created_hlc, last_seen_ms, deleted_hlc, deleted_reason, deleted_signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(w.identityId, originRegion, created, lastSeenMs, tombstone, tombstoneReason, tombstoneSignature);
    } else {
      statement(
        "UPDATE identities SET origin_region = ?, created_hlc = ?, last_seen_ms = ?, deleted_hlc = ?, deleted_reason = ?, deleted_signature = ? WHERE identity_id = ?",
      ).run(originRegion, created, lastSeenMs, tombstone, tombstoneReason, tombstoneSignature, w.identityId);
    }
    if (w.dropFields) statement("DELETE FROM identity_fields WHERE identity_id = ?").run(w.identityId);
    const upsert = statement(
      `INSERT INTO identity_fields (identity_id, field, hlc, value, signature) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (identity_id, field) DO UPDATE SET hlc = excluded.hlc, value = excluded.value, signature = excluded.signature`,
    );
    for (const f of w.fields) upsert.run(w.identityId, f.name, f.stamp, f.value, f.signature);
    if (w.phoneHash !== undefined) {
      statement("DELETE FROM phone_index WHERE identity_id = ?").run(w.identityId);
      if (w.phoneHash !== null) statement("INSERT OR REPLACE INTO phone_index (phone_hash, identity_id) VALUES (?, ?)").run(w.phoneHash, w.identityId);
    }
    if (w.dropEntitlements === true) statement("DELETE FROM entitlements WHERE identity_id = ?").run(w.identityId);
    if (w.deletionCompleted !== undefined) {
      const { atMs, record } = w.deletionCompleted;
      if (record) {
        statement(
          "INSERT INTO deletion_requests (identity_id, requested_ms, completed_ms) VALUES (?, ?, ?) ON CONFLICT (identity_id) DO UPDATE SET completed_ms = excluded.completed_ms",
        ).run(w.identityId, atMs, atMs);
      } else {
        statement("UPDATE deletion_requests SET completed_ms = ? WHERE identity_id = ? AND completed_ms IS NULL").run(atMs, w.identityId);
      }
    }
  };

  return {
    record: (identityId) =>
      run("record", () => {
        const row = identityRow(identityId);
        return row === undefined ? undefined : recordOf(row);
      }),
    commit: (writes) =>
      run("commit", () => {
        if (writes.length === 0) return;
        writeTransaction(db, () => {
          for (const w of writes) write(w);
        });
      }),
    raiseLastSeen: (identityId, atMs) =>
      run("raiseLastSeen", () =>
        unflushed(
          () =>
            // Only a rise is a change: an unchanged last-seen must not enter the replication feed.
            Number(
              statement("UPDATE identities SET last_seen_ms = ? WHERE identity_id = ? AND deleted_hlc IS NULL AND last_seen_ms < ?").run(atMs, identityId, atMs)
                .changes,
            ) > 0,
        ),
      ),
    counts: () =>
      run("counts", () => {
        const live = (statement("SELECT COUNT(*) AS n FROM identities WHERE deleted_hlc IS NULL").get() as { n: number }).n;
        const tombstones = (statement("SELECT COUNT(*) AS n FROM identities WHERE deleted_hlc IS NOT NULL").get() as { n: number }).n;
        // AUTOINCREMENT's own record: the largest row id ever given, pruned rows included.
        const top = statement("SELECT seq FROM sqlite_sequence WHERE name = 'identities'").get() as { seq: number } | undefined;
        const latest = statement("SELECT seq FROM change_counter").get() as { seq: number } | undefined;
        return { live, tombstones, watermark: top?.seq ?? 0, latestSeq: latest?.seq ?? 0 };
      }),
    latestSeq: () => run("latestSeq", () => (statement("SELECT seq FROM change_counter").get() as { seq: number } | undefined)?.seq ?? 0),
    liveIdentityIds: () =>
      run("liveIdentityIds", () =>
        (statement("SELECT identity_id AS id FROM identities WHERE deleted_hlc IS NULL").all() as { id: string }[]).map((r) => r.id),
      ),
    allIdentityIds: () =>
      run("allIdentityIds", () => (statement("SELECT identity_id AS id FROM identities ORDER BY identity_id").all() as { id: string }[]).map((r) => r.id)),
    liveFieldOf: (field, identityIds) =>
      run("liveFieldOf", () => {
        const query = statement(`${SEALED_FIELD} AND i.identity_id = ?`);
        const out: StoredSealedField[] = [];
        for (const id of identityIds) {
          const row = query.get(field, id) as StoredSealedField | undefined;
          if (row !== undefined) out.push(row);
        }
        return out;
      }),
    liveFieldAfter: (field, afterRowId, limit) =>
      run("liveFieldAfter", () => sealed(statement(`${SEALED_FIELD} AND i.row_id > ? ORDER BY i.row_id LIMIT ?`).all(field, afterRowId, limit))),
    liveFieldAtRows: (field, rowIds) =>
      run("liveFieldAtRows", () => {
        const query = statement(`${SEALED_FIELD} AND i.row_id = ?`);
        return rowIds.flatMap((rowId) => {
          const row = query.get(field, rowId) as StoredSealedField | undefined;
          return row === undefined ? [] : [row];
        });
      }),
    findByPhoneHash: (phoneHash) =>
      run(
        "findByPhoneHash",
        () => (statement("SELECT identity_id AS id FROM phone_index WHERE phone_hash = ?").get(phoneHash) as { id: string } | undefined)?.id,
      ),

    changedSince: (afterSeq, limit) =>
      run("changedSince", () =>
        (statement(`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE change_seq > ? ORDER BY change_seq LIMIT ?`).all(afterSeq, limit) as IdentityRow[]).map(
          recordOf,
        ),
      ),
    changedIdsSince: (afterSeq) =>
      run(
        "changedIdsSince",
        () =>
          statement("SELECT identity_id AS identityId, change_seq AS changeSeq FROM identities WHERE change_seq > ?").all(afterSeq) as {
            identityId: string;
            changeSeq: number;
          }[],
      ),
    liveChangeSeqs: () =>
      run(
        "liveChangeSeqs",
        () =>
          statement("SELECT identity_id AS identityId, change_seq AS changeSeq FROM identities WHERE deleted_hlc IS NULL").all() as {
            identityId: string;
            changeSeq: number;
          }[],
      ),
    unsignedIdentityIds: () =>
      run("unsignedIdentityIds", () =>
        (
          statement(
            `SELECT identity_id AS id FROM identities i
              WHERE (i.deleted_hlc IS NOT NULL AND i.deleted_signature IS NULL)
                 OR (i.deleted_hlc IS NULL AND EXISTS (SELECT 1 FROM identity_fields f WHERE f.identity_id = i.identity_id AND f.signature IS NULL))
              ORDER BY identity_id`,
          ).all() as { id: string }[]
        ).map((r) => r.id),
      ),

    leastRecentlySeen: ({ regionId, own, atMostMs, limit }) =>
      run(
        "leastRecentlySeen",
        () =>
          // Walks the index of live identities by last-seen (identities_live_last_seen) from its
          // start: a deadline or a batch costs what it returns, not a scan.
          statement(
            `SELECT identity_id AS identityId, last_seen_ms AS lastSeenMs FROM identities
            WHERE ${SWEEPABLE} AND last_seen_ms <= ? AND (origin_region = ?) = ? ORDER BY last_seen_ms LIMIT ?`,
          ).all(atMostMs, regionId, own ? 1 : 0, limit) as { identityId: string; lastSeenMs: number }[],
      ),

    recordDeletionRequest: (identityId, atMs) =>
      run("recordDeletionRequest", () => {
        statement("INSERT INTO deletion_requests (identity_id, requested_ms) VALUES (?, ?) ON CONFLICT (identity_id) DO NOTHING").run(identityId, atMs);
      }),
    openDeletionRequests: () =>
      run("openDeletionRequests", () =>
        (statement("SELECT identity_id AS id FROM deletion_requests WHERE completed_ms IS NULL").all() as { id: string }[]).map((r) => r.id),
      ),

    storeWrappedKeys: (entries, { onlyMissing }) =>
      run("storeWrappedKeys", () => {
        if (entries.length === 0) return;
        if (db.isTransaction) throw new Error("data keys are written in a transaction of their own, never inside another");
        const insert = statement(
          `INSERT INTO keys.data_keys (identity_id, wrapped) VALUES (?, ?)${onlyMissing ? " ON CONFLICT (identity_id) DO NOTHING" : ""}`,
        );
        writeTransaction(db, () => {
          for (const { identityId, wrapped } of entries) insert.run(identityId, wrapped);
        });
      }),
    wrappedKey: (identityId) =>
      run(
        "wrappedKey",
        () => (statement("SELECT wrapped FROM keys.data_keys WHERE identity_id = ?").get(identityId) as { wrapped: Uint8Array } | undefined)?.wrapped,
      ),
    destroyKeys: (identityIds) => run("destroyKeys", () => destroyDataKeys(db, identityIds)),
    sweepOrphanKeys: () => run("sweepOrphanKeys", () => sweepOrphanDataKeys(db)),

    insertEntitlement: (e) =>
      run("insertEntitlement", () => {
        statement(
          `INSERT INTO entitlements (entitlement_id, identity_id, kind, venue_id, label, valid_from_ms, valid_until_ms, entries_allowed, entries_used, schedule, revoked_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          e.entitlementId,
          e.identityId,
          e.kind,
          e.venueId,
          e.label,
          e.validFromMs,
          e.validUntilMs,
          e.entriesAllowed,
          e.entriesUsed,
          e.schedule,
          e.revokedMs,
        );
      }),
    entitlement: (entitlementId) =>
      run("entitlement", () => {
        const row = statement("SELECT * FROM entitlements WHERE entitlement_id = ?").get(entitlementId) as EntitlementRow | undefined;
        return row === undefined ? undefined : toEntitlement(row);
      }),
    entitlementsOf: (identityId, venueId) =>
      run("entitlementsOf", () =>
        (venueId === undefined
          ? (statement("SELECT * FROM entitlements WHERE identity_id = ? AND revoked_ms IS NULL").all(identityId) as EntitlementRow[])
          : (statement("SELECT * FROM entitlements WHERE identity_id = ? AND venue_id = ? AND revoked_ms IS NULL").all(identityId, venueId) as EntitlementRow[])
        ).map(toEntitlement),
      ),
    revokeEntitlement: (entitlementId, atMs) =>
      run(
        "revokeEntitlement",
        () => Number(statement("UPDATE entitlements SET revoked_ms = ? WHERE entitlement_id = ? AND revoked_ms IS NULL").run(atMs, entitlementId).changes) > 0,
      ),
    countEntry: (entitlementId) =>
      run(
        "countEntry",
        () =>
          Number(
            statement(
              "UPDATE entitlements SET entries_used = entries_used + 1 WHERE entitlement_id = ? AND (entries_allowed IS NULL OR entries_used < entries_allowed)",
            ).run(entitlementId).changes,
          ) > 0,
      ),

    peer: (regionId) =>
      run("peer", () => {
        const row = statement("SELECT region_id, public_key, acked_seq, applied_seq, last_contact_ms FROM replica_peers WHERE region_id = ?").get(regionId) as
          | PeerRow
          | undefined;
        return row === undefined ? undefined : toPeer(row);
      }),
    peers: () =>
      run("peers", () =>
        (statement("SELECT region_id, public_key, acked_seq, applied_seq, last_contact_ms FROM replica_peers ORDER BY region_id").all() as PeerRow[]).map(
          toPeer,
        ),
      ),
    addPeer: (regionId, publicKey) =>
      run("addPeer", () => {
        statement("INSERT INTO replica_peers (region_id, public_key) VALUES (?, ?)").run(regionId, publicKey);
      }),
    advancePeer: (regionId, which, seq, atMs) =>
      run("advancePeer", () => {
        const column = which === "acked" ? "acked_seq" : "applied_seq";
        return unflushed(() =>
          Number(statement(`UPDATE replica_peers SET ${column} = MAX(${column}, ?), last_contact_ms = ? WHERE region_id = ?`).run(seq, atMs, regionId).changes),
        );
      }).pipe(Effect.flatMap((changed) => (changed === 0 ? Effect.fail(new StoredPeerUnknown({ regionId })) : Effect.void))),
  };
};

type PeerRow = { region_id: string; public_key: Uint8Array; acked_seq: number; applied_seq: number; last_contact_ms: number | null };
const toPeer = (r: PeerRow): StoredPeer => ({
  regionId: r.region_id,
  publicKey: r.public_key,
  ackedSeq: r.acked_seq,
  appliedSeq: r.applied_seq,
  lastContactMs: r.last_contact_ms,
});

/** The SQLite layer, over the node's open region database. */
export const SqliteIdentityStorageLive = Layer.effect(
  IdentityStorage,
  Effect.gen(function* () {
    const { db } = yield* RegionDatabase;
    return sqliteIdentityStorage(db);
  }),
);
