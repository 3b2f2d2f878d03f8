// Crypto-shredding: a copy of registry.sqlite taken while an identity was live (a backup, a
// stolen disk image) is undecryptable for that identity once it is deleted, even with every
// secret the region still holds: its data key lived only in keys/data-keys.sqlite, which
// overwrites a destroyed key in place (secure_delete, rollback journal).
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect, test } from "vitest";
import { DATA_KEYS_FILE } from "../../cloud/storage/sqlite/data-key-file.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { decodePalmTemplate } from "../../core/palm-template.ts";
import { syntheticTemplate, tempDir } from "../cloud/fixtures.ts";
import { enroll, openReplicaRegion, run } from "../replication/replica-region.ts";

/**
 * What an attacker holding the copy and all of the region's secrets would do: take the
 * template's ciphertext from the copy, the identity's wrapped key from the region's key file,
 * unwrap it with the storage key, decrypt.
 */
const recoverTemplate = async (copy: string, keyFile: string, storageKey: Uint8Array, identityId: string) => {
  const vault = new IdentityVault(await loadSodium(), storageKey);
  const registry = new DatabaseSync(copy, { readOnly: true });
  const keys = new DatabaseSync(keyFile, { readOnly: true });
  try {
    const field = registry.prepare("SELECT value FROM identity_fields WHERE identity_id = ? AND field = 'palm_template'").get(identityId) as {
      value: Uint8Array;
    };
    const key = keys.prepare("SELECT wrapped FROM data_keys WHERE identity_id = ?").get(identityId) as { wrapped: Uint8Array } | undefined;
    if (key === undefined) throw new Error(`no key for ${identityId}`);
    const plain = vault.decryptField(identityId, "palm_template", vault.unwrapDataKey(identityId, key.wrapped), field.value);
    return decodePalmTemplate(plain);
  } finally {
    registry.close();
    keys.close();
  }
};

test("a registry copy taken before a deletion cannot be decrypted after it, even with the region's keys", async () => {
  const region = await openReplicaRegion("a");
  const deleted = syntheticTemplate(11);
  const kept = syntheticTemplate(12);
  enroll(region, "id_deleted", deleted);
  enroll(region, "id_kept", kept);
  region.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const copy = join(tempDir("palmline-backup-"), "registry.sqlite");
  copyFileSync(join(region.dataDir, "registry.sqlite"), copy);
  const keyFile = join(region.dataDir, DATA_KEYS_FILE);
  const wrapped = (region.db.prepare("SELECT wrapped FROM keys.data_keys WHERE identity_id = 'id_deleted'").get() as { wrapped: Uint8Array }).wrapped;

  // Control: before the deletion, the copy decrypts with the region's keys.
  expect(await recoverTemplate(copy, keyFile, region.storageKey, "id_deleted")).toEqual(deleted);

  run(region.registry.tombstone("id_deleted", region.clock.now(), "requested"));

  await expect(recoverTemplate(copy, keyFile, region.storageKey, "id_deleted")).rejects.toThrow(/no key|could not decrypt/);
  // The key's bytes are gone from the key file itself, not only unlinked from its table, and no
  // journal holding the old page is left behind.
  expect(readFileSync(keyFile).indexOf(Buffer.from(wrapped))).toBe(-1);
  expect(existsSync(`${keyFile}-journal`)).toBe(false);
  // Another identity in the same copy is unaffected.
  expect(await recoverTemplate(copy, keyFile, region.storageKey, "id_kept")).toEqual(kept);
});
