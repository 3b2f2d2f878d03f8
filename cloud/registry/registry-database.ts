// Opens the region's SQLite database (node:sqlite) and brings its schema up to date.
//
// The registry is shaped for replication from the start (DESIGN.md, "Registry as a CRDT"): one
// row per identity with a last-seen max-register and a deletion tombstone, and every other
// attribute as a separate last-writer-wins register stamped with an HLC timestamp. Adding an
// attribute later (card token, phone, loyalty card) needs a new field name, not a schema change.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const MIGRATIONS: readonly string[] = [
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
];

export const openRegistryDatabase = (dataDir: string): DatabaseSync => {
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, "registry.sqlite"));
  // WAL + synchronous=FULL: a committed enrollment survives kill -9 and power loss alike.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  const current = row?.user_version ?? 0;
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
  return db;
};
