// Opens the region's SQLite database (node:sqlite) and brings its schema up to date.
//
// The registry is shaped for replication from the start (docs/architecture.md, "Storage and crash consistency"; docs/replication.md): one
// row per identity with a last-seen max-register and a deletion tombstone, and every other
// attribute as a separate last-writer-wins register stamped with an HLC timestamp. Adding an
// attribute later (card token, phone, loyalty card) needs a new field name, not a schema change.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { attachDataKeyStore, sweepOrphanDataKeys } from "./data-key-file.ts";
import { writeTransaction } from "./sqlite-transaction.ts";

/**
 * A schema step. `before` runs first in a transaction of its own and must be idempotent: for
 * work on the attached `keys` database, which must be committed before the main database moves on
 * (a transaction across a WAL database and an attached one is not atomic as a whole).
 */
type Migration = string | { readonly before: string; readonly sql: string };

const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE identities (
     identity_id      TEXT PRIMARY KEY,
     origin_region    TEXT NOT NULL,
     created_hlc      TEXT NOT NULL,
     last_seen_ms     INTEGER NOT NULL,      -- max-register
     deleted_hlc      TEXT,                  -- tombstone: dominates every concurrent update
     wrapped_data_key BLOB                   -- NULL once deleted: the data key is destroyed
   ) STRICT;
   CREATE TABLE identity_fields (
     identity_id TEXT NOT NULL REFERENCES identities(identity_id),
     field       TEXT NOT NULL,
     hlc         TEXT NOT NULL,              -- last-writer-wins order: (HLC, node id)
     value       BLOB,                       -- encrypted with the identity's data key
     PRIMARY KEY (identity_id, field)
   ) STRICT;
   CREATE TABLE devices (
     device_id      TEXT PRIMARY KEY,
     public_key     BLOB NOT NULL UNIQUE,
     name           TEXT NOT NULL,
     provisioned_ms INTEGER NOT NULL,
     revoked_ms     INTEGER
   ) STRICT;
   CREATE TABLE provisioning_codes (
     code_hash  TEXT PRIMARY KEY,            -- never the code itself
     expires_ms INTEGER NOT NULL,
     used_ms    INTEGER
   ) STRICT;`,
  // Payments, by idempotency key: a retried or re-driven authorization finds its first attempt.
  // Third-party checkouts are recorded without amount (palmline never learns it).
  `CREATE TABLE payments (
     idempotency_key  TEXT PRIMARY KEY,      -- device id + the device's key
     identity_id      TEXT,
     merchant_id      TEXT NOT NULL,
     amount_minor     INTEGER,
     currency         TEXT,
     state            TEXT NOT NULL,         -- authorizing | approved | declined | no-match | failed | captured | voided | refunded
     authorization_id TEXT UNIQUE,
     reason           TEXT,
     created_ms       INTEGER NOT NULL,
     updated_ms       INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX payments_identity ON payments (identity_id, state);
   -- A keyed hash of the phone number, so an operator can find an identity by phone while the
   -- number itself stays encrypted in identity_fields.
   CREATE TABLE phone_index (
     phone_hash  TEXT PRIMARY KEY,
     identity_id TEXT NOT NULL
   ) STRICT;
   CREATE TABLE entitlements (
     entitlement_id TEXT PRIMARY KEY,
     identity_id    TEXT NOT NULL,
     kind           TEXT NOT NULL,           -- ticket | badge
     venue_id       TEXT NOT NULL,           -- event venue or workplace site
     label          TEXT NOT NULL,
     valid_from_ms  INTEGER NOT NULL,
     valid_until_ms INTEGER NOT NULL,
     entries_allowed INTEGER,                -- NULL: unlimited
     entries_used   INTEGER NOT NULL DEFAULT 0,
     schedule       TEXT,                    -- badges: JSON weekly windows
     revoked_ms     INTEGER
   ) STRICT;
   CREATE INDEX entitlements_identity ON entitlements (identity_id, venue_id);
   CREATE TABLE deletion_requests (
     identity_id  TEXT PRIMARY KEY,
     requested_ms INTEGER NOT NULL,
     completed_ms INTEGER
   ) STRICT;`,
  // Replication (issue 7). Data keys move to keys.data_keys (cloud/storage/sqlite/data-key-file.ts),
  // copied there and committed before the column that held them is dropped. identities is rebuilt
  // with AUTOINCREMENT, keeping every rowid: pruned tombstones' rowids are never reused (shard
  // snapshots replay by rowid), and change_seq numbers every change from one region-wide counter,
  // kept by triggers so no write path can forget it: the feed replication reads in order.
  // Tombstoned identities lose their field rows: a tombstoned record has no fields.
  {
    before: `INSERT INTO keys.data_keys (identity_id, wrapped)
               SELECT identity_id, wrapped_data_key FROM main.identities WHERE wrapped_data_key IS NOT NULL AND deleted_hlc IS NULL
             ON CONFLICT (identity_id) DO NOTHING;`,
    sql: `CREATE TABLE change_counter (
            only INTEGER PRIMARY KEY CHECK (only = 1),
            seq  INTEGER NOT NULL
          ) STRICT;
          CREATE TABLE identities_v3 (
            row_id        INTEGER PRIMARY KEY AUTOINCREMENT,
            identity_id   TEXT NOT NULL UNIQUE,
            origin_region TEXT NOT NULL,
            created_hlc   TEXT NOT NULL,
            last_seen_ms  INTEGER NOT NULL,      -- max-register
            deleted_hlc   TEXT,                  -- tombstone: dominates every concurrent update
            change_seq    INTEGER NOT NULL DEFAULT 0
          ) STRICT;
          INSERT INTO identities_v3 (row_id, identity_id, origin_region, created_hlc, last_seen_ms, deleted_hlc, change_seq)
            SELECT rowid, identity_id, origin_region, created_hlc, last_seen_ms, deleted_hlc, rowid FROM identities ORDER BY rowid;
          DELETE FROM identity_fields WHERE identity_id IN (SELECT identity_id FROM identities WHERE deleted_hlc IS NOT NULL);
          DROP TABLE identities;
          ALTER TABLE identities_v3 RENAME TO identities;
          INSERT INTO change_counter (only, seq) VALUES (1, (SELECT COALESCE(MAX(change_seq), 0) FROM identities));
          CREATE INDEX identities_change_seq ON identities (change_seq);
          -- the expiry sweeper's MIN(last_seen_ms) over live identities
          CREATE INDEX identities_live_last_seen ON identities (last_seen_ms) WHERE deleted_hlc IS NULL;
          CREATE TRIGGER identity_inserted AFTER INSERT ON identities BEGIN
            UPDATE change_counter SET seq = seq + 1;
            UPDATE identities SET change_seq = (SELECT seq FROM change_counter) WHERE row_id = NEW.row_id;
          END;
          CREATE TRIGGER identity_updated AFTER UPDATE OF origin_region, created_hlc, last_seen_ms, deleted_hlc ON identities
            WHEN NEW.origin_region IS NOT OLD.origin_region OR NEW.created_hlc IS NOT OLD.created_hlc
              OR NEW.last_seen_ms IS NOT OLD.last_seen_ms OR NEW.deleted_hlc IS NOT OLD.deleted_hlc
          BEGIN
            UPDATE change_counter SET seq = seq + 1;
            UPDATE identities SET change_seq = (SELECT seq FROM change_counter) WHERE row_id = NEW.row_id;
          END;
          CREATE TRIGGER identity_field_inserted AFTER INSERT ON identity_fields BEGIN
            UPDATE change_counter SET seq = seq + 1;
            UPDATE identities SET change_seq = (SELECT seq FROM change_counter) WHERE identity_id = NEW.identity_id;
          END;
          CREATE TRIGGER identity_field_updated AFTER UPDATE ON identity_fields
            WHEN NEW.hlc IS NOT OLD.hlc OR NEW.value IS NOT OLD.value
          BEGIN
            UPDATE change_counter SET seq = seq + 1;
            UPDATE identities SET change_seq = (SELECT seq FROM change_counter) WHERE identity_id = NEW.identity_id;
          END;
          CREATE TRIGGER identity_field_deleted AFTER DELETE ON identity_fields BEGIN
            UPDATE change_counter SET seq = seq + 1;
            UPDATE identities SET change_seq = (SELECT seq FROM change_counter) WHERE identity_id = OLD.identity_id;
          END;
          -- Other regions of the federation: the key each linked with (progress only: trust is the
          -- federation list's), and how far each feed has been applied (acked_seq: theirs of mine; applied_seq: mine of theirs).
          CREATE TABLE replica_peers (
            region_id       TEXT PRIMARY KEY,
            public_key      BLOB NOT NULL,
            acked_seq       INTEGER NOT NULL DEFAULT 0,
            applied_seq     INTEGER NOT NULL DEFAULT 0,
            last_contact_ms INTEGER
          ) STRICT;`,
  },
  // Signed writes (issue 15): each field register keeps its writer's signature, each tombstone its
  // reason and its deleter's signature. Rows from before stay NULL until the registry signs its
  // own at open; a signature added to a register is a change, so the feed carries it to peers.
  `ALTER TABLE identity_fields ADD COLUMN signature BLOB;
   ALTER TABLE identities ADD COLUMN deleted_reason TEXT;
   ALTER TABLE identities ADD COLUMN deleted_signature BLOB;
   DROP TRIGGER identity_field_updated;
   CREATE TRIGGER identity_field_updated AFTER UPDATE ON identity_fields
     WHEN NEW.hlc IS NOT OLD.hlc OR NEW.value IS NOT OLD.value OR NEW.signature IS NOT OLD.signature
   BEGIN
     UPDATE change_counter SET seq = seq + 1;
     UPDATE identities SET change_seq = (SELECT seq FROM change_counter) WHERE identity_id = NEW.identity_id;
   END;
   DROP TRIGGER identity_updated;
   CREATE TRIGGER identity_updated AFTER UPDATE OF origin_region, created_hlc, last_seen_ms, deleted_hlc, deleted_reason, deleted_signature ON identities
     WHEN NEW.origin_region IS NOT OLD.origin_region OR NEW.created_hlc IS NOT OLD.created_hlc
       OR NEW.last_seen_ms IS NOT OLD.last_seen_ms OR NEW.deleted_hlc IS NOT OLD.deleted_hlc
       OR NEW.deleted_reason IS NOT OLD.deleted_reason OR NEW.deleted_signature IS NOT OLD.deleted_signature
   BEGIN
     UPDATE change_counter SET seq = seq + 1;
     UPDATE identities SET change_seq = (SELECT seq FROM change_counter) WHERE row_id = NEW.row_id;
   END;`,
  // Devices bound to roles, a merchant and a venue (cloud/storage/device-binding.ts), named by
  // the provisioning code. Devices provisioned before have no role: they must be provisioned anew.
  `ALTER TABLE provisioning_codes ADD COLUMN roles TEXT NOT NULL DEFAULT '';  -- comma-separated
   ALTER TABLE provisioning_codes ADD COLUMN merchant_id TEXT;
   ALTER TABLE provisioning_codes ADD COLUMN venue_id TEXT;
   ALTER TABLE devices ADD COLUMN roles TEXT NOT NULL DEFAULT '';
   ALTER TABLE devices ADD COLUMN merchant_id TEXT;
   ALTER TABLE devices ADD COLUMN venue_id TEXT;`,
];

export interface RegistryOpenOptions {
  /**
   * Destroy data keys whose identity is tombstoned or absent (what a crash between the two
   * commits of an enrollment or a deletion leaves). Only the node that writes identities may do
   * it: a second process (an operator command) sweeping while the node is between an
   * enrollment's two commits would destroy the new identity's key.
   */
  readonly sweepOrphanKeys?: boolean;
}

/**
 * The data directory is the region's alone (0700): it holds the registry, the index snapshots and
 * the keys. One that other users could read or enter is tightened, whoever created it.
 */
export const keepPrivate = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
};

export const openRegistryDatabase = (dataDir: string, options: RegistryOpenOptions = {}): DatabaseSync => {
  keepPrivate(dataDir);
  const path = join(dataDir, "registry.sqlite");
  // SQLite creates the WAL and shared-memory files with the database file's mode: 0600 for all three.
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  else if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const db = new DatabaseSync(path);
  // WAL + synchronous=FULL: a committed enrollment survives kill -9 and power loss alike.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
  attachDataKeyStore(db, dataDir);
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  const current = row?.user_version ?? 0;
  if (current < MIGRATIONS.length) {
    // Table rebuilds need foreign keys off (a pragma that is a no-op inside a transaction), and
    // dropped pages zeroed: they held wrapped data keys before those moved out.
    db.exec("PRAGMA foreign_keys = OFF; PRAGMA main.secure_delete = ON;");
    for (let version = current; version < MIGRATIONS.length; version++) {
      const migration = MIGRATIONS[version]!;
      if (typeof migration !== "string") inTransaction(db, () => db.exec(migration.before));
      inTransaction(db, () => {
        db.exec(typeof migration === "string" ? migration : migration.sql);
        const broken = db.prepare("PRAGMA foreign_key_check").all();
        if (broken.length > 0) throw new Error(`migration ${version + 1} broke ${broken.length} foreign key(s)`);
        db.exec(`PRAGMA user_version = ${version + 1}`);
      });
    }
    db.exec("PRAGMA foreign_keys = ON; PRAGMA main.secure_delete = OFF;");
    // Old pages (wrapped keys among them) leave the WAL.
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  if (options.sweepOrphanKeys === true) sweepOrphanDataKeys(db);
  return db;
};

const inTransaction = (db: DatabaseSync, work: () => void): void => writeTransaction(db, work);
