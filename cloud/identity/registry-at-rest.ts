// A region's identity registry opened outside a running node, for tools that work on a data
// directory directly (evaluation, benches, bulk import, tests): the same layers the node uses
// (region database -> SQLite identity storage -> registry), held by one runtime that close()
// releases. Only while no node runs on the directory: the node alone writes identities.
import { Effect, Exit, Layer, ManagedRuntime, Scope } from "effect";
import { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import type { ShardSet } from "../shards/shard-set.ts";
import { followRegistry, type RegistryFollower } from "../shards/registry-follower.ts";
import { IdentityVault } from "../storage/identity-vault.ts";
import { MemoryIdentityStorageLive } from "../storage/memory/memory-identity-storage.ts";
import { loadOrCreateRegionKeyring } from "../storage/region-keyring.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { regionDatabaseLayer } from "../storage/sqlite/region-database.ts";
import { SqliteIdentityStorageLive } from "../storage/sqlite/sqlite-identity-storage.ts";
import { IdentityRegistry, identityRegistryLayer, type IdentityRegistryShape } from "./identity-registry.ts";
import { phoneHasher } from "./phone-hash.ts";

export interface RegistryAtRest {
  readonly registry: IdentityRegistryShape;
  /** The region's storage key (index snapshots wrap their keys with it). */
  readonly storageKey: Uint8Array;
  /** Keeps shards following the registry until close() (cloud/shards/registry-follower.ts). */
  follow(shards: Pick<ShardSet, "add" | "remove">, log?: (line: string) => void, snapshot?: () => Promise<void>): Promise<RegistryFollower>;
  close(): Promise<void>;
}

export const openRegistryAtRest = async (o: {
  readonly dataDir: string;
  readonly regionId: string;
  /** Wall time for stamps and last-seen; Date.now by default. */
  readonly now?: () => number;
  /** "memory" keeps identity state in memory (keys still come from dataDir); SQLite by default. */
  readonly storage?: "sqlite" | "memory";
}): Promise<RegistryAtRest> => {
  const sodium = await loadSodium();
  const keyring = await loadOrCreateRegionKeyring(o.dataDir);
  const registryLayer = identityRegistryLayer({
    regionId: o.regionId,
    vault: new IdentityVault(sodium, keyring.storageKey),
    sodium,
    identityKey: keyring.identity,
    hlc: new HybridLogicalClock(o.regionId, o.now ?? Date.now),
    phoneHash: phoneHasher(keyring.storageKey),
  });
  const storage = o.storage === "memory" ? MemoryIdentityStorageLive : SqliteIdentityStorageLive.pipe(Layer.provide(regionDatabaseLayer(o.dataDir)));
  const runtime = ManagedRuntime.make(registryLayer.pipe(Layer.provide(storage)));
  const registry = await runtime.runPromise(
    Effect.gen(function* () {
      return yield* IdentityRegistry;
    }),
  );
  const scope = Effect.runSync(Scope.make());
  return {
    registry,
    storageKey: keyring.storageKey,
    follow: (shards, log = () => {}, snapshot) =>
      Effect.runPromise(followRegistry(registry, shards, log, snapshot).pipe(Effect.provideService(Scope.Scope, scope))),
    close: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void));
      await runtime.dispose();
    },
  };
};
