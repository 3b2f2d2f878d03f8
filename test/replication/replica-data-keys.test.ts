// The data-key file's crash rules: what a crash between an enrollment's or a deletion's two
// commits leaves (a key without a live identity) is swept when the node opens the registry.
import { statSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { openRegistryDatabase } from "../../cloud/registry/registry-database.ts";
import { DATA_KEYS_FILE, DataKeyStore } from "../../cloud/storage/data-key-store.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { sodiumReady } from "../../cloud/storage/sodium.ts";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { id, openReplicaRegion } from "./replica-region.ts";

const keyIds = (db: { prepare: (sql: string) => { all: () => unknown[] } }) =>
  (db.prepare("SELECT identity_id AS id FROM keys.data_keys ORDER BY identity_id").all() as { id: string }[]).map((r) => r.id);

test("keys left by a crash (identity never written, or tombstoned) are swept at the node's open, not at another process's", async () => {
  const region = await openReplicaRegion("a");
  region.registry.enroll(id("id_live"), syntheticTemplate(1), region.clock.now());
  region.registry.enroll(id("id_deleted"), syntheticTemplate(2), region.clock.now());
  const keys = new DataKeyStore({ db: region.db, vault: new IdentityVault(await sodiumReady, region.storageKey) });
  // Crash after the key's commit, before the identity's.
  keys.store([{ identityId: "id_never_written", dataKey: new Uint8Array(32).fill(1) }]);
  // Crash after the tombstone's commit, before the key's destruction.
  region.db.prepare("UPDATE identities SET deleted_hlc = '0000000000ff.000000.a' WHERE identity_id = 'id_deleted'").run();
  region.db.close();

  const operatorCommand = openRegistryDatabase(region.dataDir);
  expect(keyIds(operatorCommand)).toEqual(["id_deleted", "id_live", "id_never_written"]);
  operatorCommand.close();

  const node = await openReplicaRegion("a", { dataDir: region.dataDir });
  expect(keyIds(node.db)).toEqual(["id_live"]);
  expect(node.registry.templatesOf(["id_live"])).toHaveLength(1);
});

test("the key file is private to the region's user", async () => {
  const region = await openReplicaRegion("a");
  expect(statSync(join(region.dataDir, DATA_KEYS_FILE)).mode & 0o077).toBe(0);
});

test("an enrollment of an id that already has a key is refused before anything is written", async () => {
  const region = await openReplicaRegion("a");
  region.registry.enroll(id("id_1"), syntheticTemplate(1), region.clock.now());
  const seq = region.replica.latestSeq();
  expect(() => region.registry.enroll(id("id_1"), syntheticTemplate(2), region.clock.now())).toThrow();
  expect(region.replica.latestSeq()).toBe(seq);
  expect(keyIds(region.db)).toEqual(["id_1"]);
});
