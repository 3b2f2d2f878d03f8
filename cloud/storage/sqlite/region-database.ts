// The region's SQLite database as a scoped resource: opened (schema brought up to date, orphan
// data keys swept) when the node starts, closed when it stops. Identity storage, the payment
// ledger and the device directory all keep their rows in it.
import type { DatabaseSync } from "node:sqlite";
import { Context, Effect, Layer } from "effect";
import { openRegistryDatabase } from "./registry-database.ts";

export class RegionDatabase extends Context.Service<RegionDatabase, { readonly db: DatabaseSync }>()("palmline/RegionDatabase") {}

/**
 * Opens `<dataDir>/registry.sqlite` for the node. The node alone writes identities, so it alone
 * sweeps the keys a crash left orphaned (registry-database.ts says why a second process must not).
 */
export const regionDatabaseLayer = (dataDir: string) =>
  Layer.effect(
    RegionDatabase,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => openRegistryDatabase(dataDir, { sweepOrphanKeys: true })),
        (db) => Effect.sync(() => db.close()),
      ),
      (db) => ({ db }),
    ),
  );
