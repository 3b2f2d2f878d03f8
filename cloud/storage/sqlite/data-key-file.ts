// Where each identity's data key lives: a SQLite file of its own, <data>/keys/data-keys.sqlite,
// attached to the registry connection as schema `keys`. Why a separate file: the registry runs in
// WAL mode, and a WAL (or a copy of registry.sqlite) keeps old pages, so a key destroyed there
// could still be read back from a copy taken before the deletion. This file uses a rollback
// journal and secure_delete, so a destroyed key's bytes are overwritten in place: a copy of
// registry.sqlite taken before a deletion is undecryptable afterwards even with every secret
// the region still holds (test/lifecycle/crypto-shredding.test.ts).
//
// A transaction spanning a WAL database and an attached one is not atomic as a whole, so every
// write here commits on its own, in an order that a crash cannot turn into a live identity
// without a key: enroll writes the key first, then the identity; deletion writes the tombstone
// first, then destroys the key; at open, keys whose identity is tombstoned or absent are swept.
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { exposedKeyFile } from "../region-keyring.ts";
import { prepared } from "./prepared-statements.ts";
import { writeTransaction } from "./sqlite-transaction.ts";

/** The data-key file, relative to the region's data directory. */
export const DATA_KEYS_FILE = join("keys", "data-keys.sqlite");

/** Attaches the data-key file to a registry connection as `keys` (creating it, mode 0600, if absent). */
export const attachDataKeyStore = (db: DatabaseSync, dataDir: string): void => {
  mkdirSync(join(dataDir, "keys"), { recursive: true, mode: 0o700 });
  const path = join(dataDir, DATA_KEYS_FILE);
  // SQLite would create it with the process umask; the keys are secrets, so the file is private
  // (its journal inherits the file's mode).
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  const exposed = exposedKeyFile(path);
  if (exposed !== undefined) throw exposed;
  db.prepare("ATTACH DATABASE ? AS keys").run(path);
  db.exec(`PRAGMA keys.journal_mode = DELETE;
           PRAGMA keys.synchronous = FULL;
           PRAGMA keys.secure_delete = ON;
           CREATE TABLE IF NOT EXISTS keys.data_keys (
             identity_id TEXT PRIMARY KEY,
             wrapped     BLOB NOT NULL            -- the data key, wrapped by the region's storage key
           ) STRICT;`);
};

/** Runs `work` in a transaction of its own: never inside another, whose commit order would be SQLite's. */
const alone = (db: DatabaseSync, work: () => void): void => {
  if (db.isTransaction) throw new Error("data keys are written in a transaction of their own, never inside another");
  writeTransaction(db, work);
};

/** Destroys data keys (committed before returning); their bytes are overwritten in the file. */
export const destroyDataKeys = (db: DatabaseSync, identityIds: readonly string[]): void => {
  if (identityIds.length === 0) return;
  const remove = prepared(db, "DELETE FROM keys.data_keys WHERE identity_id = ?");
  alone(db, () => {
    for (const id of identityIds) remove.run(id);
  });
};

/** Destroys every key whose identity is tombstoned or absent: what a crash between two commits leaves. */
export const sweepOrphanDataKeys = (db: DatabaseSync): number => {
  let swept = 0;
  alone(db, () => {
    swept = Number(
      db.prepare("DELETE FROM keys.data_keys WHERE identity_id NOT IN (SELECT identity_id FROM main.identities WHERE deleted_hlc IS NULL)").run().changes,
    );
  });
  return swept;
};
