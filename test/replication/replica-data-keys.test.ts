// The data-key file's crash rules: what a crash between an enrollment's or a deletion's two
// commits leaves (a key without a live identity) is swept when the node opens the registry.
import { statSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { DATA_KEYS_FILE } from "../../cloud/storage/sqlite/data-key-file.ts";
import { openRegistryDatabase } from "../../cloud/storage/sqlite/registry-database.ts";
import { sqliteIdentityStorage } from "../../cloud/storage/sqlite/sqlite-identity-storage.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { enroll, failure, id, openReplicaRegion, run } from "./replica-region.ts";

const keyIds = (db: { prepare: (sql: string) => { all: () => unknown[] } }) =>
  (db.prepare("SELECT identity_id AS id FROM keys.data_keys ORDER BY identity_id").all() as { id: string }[]).map((r) => r.id);

test("keys left by a crash (identity never written, or tombstoned) are swept at the node's open, not at another process's", async () => {
  const region = await openReplicaRegion("a");
  enroll(region, "id_live", syntheticTemplate(1));
  enroll(region, "id_deleted", syntheticTemplate(2));
  const vault = new IdentityVault(await loadSodium(), region.storageKey);
  // Crash after the key's commit, before the identity's.
  run(
    sqliteIdentityStorage(region.db).storeWrappedKeys(
      [{ identityId: "id_never_written", wrapped: vault.wrapDataKey("id_never_written", new Uint8Array(32).fill(1)) }],
      { onlyMissing: false },
    ),
  );
  // Crash after the tombstone's commit, before the key's destruction.
  region.db.prepare("UPDATE identities SET deleted_hlc = '0000000000ff.000000.a' WHERE identity_id = 'id_deleted'").run();
  region.db.close();

  const operatorCommand = openRegistryDatabase(region.dataDir);
  expect(keyIds(operatorCommand)).toEqual(["id_deleted", "id_live", "id_never_written"]);
  operatorCommand.close();

  const node = await openReplicaRegion("a", { dataDir: region.dataDir });
  expect(keyIds(node.db)).toEqual(["id_live"]);
  expect(run(node.registry.templatesOf(["id_live"]))).toHaveLength(1);
});

test("the key file is private to the region's user", async () => {
  const region = await openReplicaRegion("a");
  expect(statSync(join(region.dataDir, DATA_KEYS_FILE)).mode & 0o077).toBe(0);
});

test("an enrollment of an id that already has a key is refused before anything is written", async () => {
  const region = await openReplicaRegion("a");
  enroll(region, "id_1", syntheticTemplate(1));
  const seq = run(region.registry.latestSeq());
  expect(failure(region.registry.enroll([{ identityId: id("id_1"), template: syntheticTemplate(2) }], region.clock.now()))).toMatchObject({
    _tag: "IdentityStorageFailure",
  });
  expect(run(region.registry.latestSeq())).toBe(seq);
  expect(keyIds(region.db)).toEqual(["id_1"]);
});
