// A registry written before replication (data keys in identities.wrapped_data_key) opens into
// the replication layout: keys moved to the key file, rowids kept, a change feed numbered.
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { mkdirSync, readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { encodePalmTemplate } from "../../core/palm-template.ts";
import { syntheticTemplate, tempDir } from "../cloud/fixtures.ts";
import { enroll, openReplicaRegion, run } from "./replica-region.ts";

/** The schema of user_version 2, the tables this migration and the later ones touch. */
const writeVersion2 = async (dataDir: string, storageKey: Uint8Array) => {
  const sodium = await loadSodium();
  const vault = new IdentityVault(sodium, storageKey);
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, "registry.sqlite"));
  db.exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE identities (identity_id TEXT PRIMARY KEY, origin_region TEXT NOT NULL, created_hlc TEXT NOT NULL, last_seen_ms INTEGER NOT NULL, deleted_hlc TEXT, wrapped_data_key BLOB) STRICT;
    CREATE TABLE identity_fields (identity_id TEXT NOT NULL REFERENCES identities(identity_id), field TEXT NOT NULL, hlc TEXT NOT NULL, value BLOB, PRIMARY KEY (identity_id, field)) STRICT;
    CREATE TABLE phone_index (phone_hash TEXT PRIMARY KEY, identity_id TEXT NOT NULL) STRICT;
    CREATE TABLE entitlements (entitlement_id TEXT PRIMARY KEY, identity_id TEXT NOT NULL) STRICT;
    CREATE TABLE deletion_requests (identity_id TEXT PRIMARY KEY, requested_ms INTEGER NOT NULL, completed_ms INTEGER) STRICT;
    CREATE TABLE devices (device_id TEXT PRIMARY KEY, public_key BLOB NOT NULL UNIQUE, name TEXT NOT NULL, provisioned_ms INTEGER NOT NULL, revoked_ms INTEGER) STRICT;
    CREATE TABLE provisioning_codes (code_hash TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL, used_ms INTEGER) STRICT;
    PRAGMA user_version = 2;`);
  const template = syntheticTemplate(5);
  const dataKey = vault.newDataKey();
  const insert = db.prepare(
    "INSERT INTO identities (rowid, identity_id, origin_region, created_hlc, last_seen_ms, deleted_hlc, wrapped_data_key) VALUES (?, ?, 'a', ?, 1000, ?, ?)",
  );
  const wrapped = vault.wrapDataKey("id_live", dataKey);
  insert.run(3, "id_live", "000000000001.000000.a", null, wrapped);
  insert.run(7, "id_gone", "000000000001.000001.a", "000000000002.000000.a", null);
  db.prepare("INSERT INTO identity_fields VALUES ('id_live', 'palm_template', '000000000001.000000.a', ?)").run(
    vault.encryptField("id_live", "palm_template", dataKey, encodePalmTemplate(template)),
  );
  db.prepare("INSERT INTO identity_fields VALUES ('id_gone', 'palm_template', '000000000002.000000.a', NULL)").run();
  db.close();
  return { template, wrapped };
};

test("an old registry's data keys move to the key file; rowids and templates are kept, tombstones lose their fields", async () => {
  const dataDir = tempDir();
  const storageKey = new Uint8Array(32).fill("a".charCodeAt(0));
  const { template, wrapped } = await writeVersion2(dataDir, storageKey);
  const a = await openReplicaRegion("a", { dataDir });
  const [stored] = run(a.registry.templatesOf(["id_live"]));
  expect(stored!.rowid).toBe(3);
  expect(stored!.template).toEqual(template);
  expect(run(a.registry.watermark())).toBe(7);
  expect(a.db.prepare("SELECT identity_id AS id FROM keys.data_keys").all()).toEqual([{ id: "id_live" }]);
  expect(a.db.prepare("SELECT COUNT(*) AS n FROM identity_fields WHERE identity_id = 'id_gone'").get()).toEqual({ n: 0 });
  const columns = (a.db.prepare("PRAGMA table_info(identities)").all() as { name: string }[]).map((c) => c.name);
  expect(columns).not.toContain("wrapped_data_key");
  expect(run(a.registry.changesSince(0)).records.map((r) => r.identityId)).toEqual(["id_live", "id_gone"]);
  // The old column's pages were zeroed when dropped: the wrapped key is only in the key file now.
  expect(readFileSync(join(dataDir, "registry.sqlite")).indexOf(Buffer.from(wrapped))).toBe(-1);
  enroll(a, "id_new", syntheticTemplate(6), 2_000);
  expect(run(a.registry.templatesOf(["id_new"]))[0]!.rowid).toBe(8);
});
