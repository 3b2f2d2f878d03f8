// The SQLite identity storage layer (the embedded default) against the conformance suite every
// layer passes: a fresh region database in a directory of its own for each test.
import { rmSync } from "node:fs";
import { sqliteIdentityStorage } from "../../cloud/storage/sqlite/sqlite-identity-storage.ts";
import { openRegistryDatabase } from "../../cloud/storage/sqlite/registry-database.ts";
import { tempDir } from "../cloud/fixtures.ts";
import { identityStorageConformance } from "./identity-storage-conformance.ts";

identityStorageConformance("SQLite", async () => {
  const dir = tempDir("palmline-storage-");
  const db = openRegistryDatabase(dir);
  return {
    storage: sqliteIdentityStorage(db),
    close: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
