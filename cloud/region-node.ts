// A regional node, wired with Effect: configuration, scoped resources (database, keyring, index,
// servers) and their order of start and shutdown. Behaviour lives in XState machines and plain
// classes; this file only says what depends on what.
//
//   RegionNodeConfig -> RegionStorage (SQLite registry, keys) -> RegionIndex (FAISS shards)
//                                                              -> RegionNode (WebSocket + HTTP)
import { Context, Effect, Layer, ManagedRuntime } from "effect";
import type { Clock } from "../core/clock.ts";
import { HybridLogicalClock } from "../core/hybrid-logical-clock.ts";
import type { DeviceId } from "../core/ids.ts";
import { SIGNATURE_DIMENSION } from "../core/palm-signature.ts";
import { PalmIdentifier } from "./identification/palm-identifier.ts";
import { DeviceDirectory } from "./registry/device-directory.ts";
import { IdentityRegistry } from "./registry/identity-registry.ts";
import { openRegistryDatabase } from "./registry/registry-database.ts";
import { startRegionServer, type RegionServer } from "./server/region-server.ts";
import { ShardSet } from "./shards/shard-set.ts";
import { IdentityVault } from "./storage/identity-vault.ts";
import { loadOrCreateRegionKeyring, type RegionKeyring } from "./storage/region-keyring.ts";
import { sodiumReady } from "./storage/sodium.ts";

export interface RegionNodeSettings {
  readonly regionId: string;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly shardCount: number;
  /** Wall time and timers for everything in the node; tests pass a ManualClock. */
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

export class RegionNodeConfig extends Context.Service<RegionNodeConfig, RegionNodeSettings>()("palmline/RegionNodeConfig") {}

export class RegionStorage extends Context.Service<
  RegionStorage,
  { readonly keyring: RegionKeyring; readonly registry: IdentityRegistry; readonly devices: DeviceDirectory }
>()("palmline/RegionStorage") {}

export class RegionIndex extends Context.Service<RegionIndex, { readonly shards: ShardSet; readonly buildMs: number }>()("palmline/RegionIndex") {}

export interface RegionNodeHandle {
  readonly regionId: string;
  readonly url: string;
  readonly httpUrl: string;
  readonly identityPublicKey: Uint8Array;
  readonly enrolledCount: () => number;
  readonly issueProvisioningCode: () => string;
  /** Marks the device revoked and closes its live sessions immediately. */
  readonly revokeDevice: (deviceId: DeviceId) => boolean;
  readonly server: RegionServer;
}

export class RegionNode extends Context.Service<RegionNode, RegionNodeHandle>()("palmline/RegionNode") {}

const RegionStorageLive = Layer.effect(
  RegionStorage,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const sodium = yield* Effect.promise(() => sodiumReady);
    const keyring = yield* Effect.promise(() => loadOrCreateRegionKeyring(config.dataDir));
    const db = yield* Effect.acquireRelease(
      Effect.sync(() => openRegistryDatabase(config.dataDir)),
      (database) => Effect.sync(() => database.close()),
    );
    const hlc = new HybridLogicalClock(config.regionId, () => config.clock.now());
    return {
      keyring,
      registry: new IdentityRegistry({ db, vault: new IdentityVault(sodium, keyring.storageKey), hlc, regionId: config.regionId }),
      devices: new DeviceDirectory(db),
    };
  }),
);

// Shards are derived state: rebuilt from the registry at every start, so they can never hold an
// identity the registry does not.
const RegionIndexLive = Layer.effect(
  RegionIndex,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { registry } = yield* RegionStorage;
    const started = performance.now();
    const shards = new ShardSet({ shardCount: config.shardCount, dimension: SIGNATURE_DIMENSION });
    shards.add(registry.liveTemplates());
    const buildMs = performance.now() - started;
    config.log(`index rebuilt from the registry: ${shards.size} identities in ${config.shardCount} shards (${buildMs.toFixed(0)} ms)`);
    return { shards, buildMs };
  }),
);

const RegionNodeServerLive = Layer.effect(
  RegionNode,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { keyring, registry, devices } = yield* RegionStorage;
    const { shards } = yield* RegionIndex;
    const identifier = new PalmIdentifier({ registry, shards, now: () => config.clock.now() });
    const server = yield* Effect.acquireRelease(
      Effect.promise(() =>
        startRegionServer({
          host: config.host,
          port: config.port,
          regionId: config.regionId,
          identity: keyring.identity,
          clock: config.clock,
          devices,
          identifier,
          templateKeys: keyring.template,
          now: () => config.clock.now(),
          log: config.log,
          status: () => ({ enrolled: registry.liveCount(), indexed: shards.size }),
        }),
      ),
      (s) => Effect.promise(() => s.close()),
    );
    config.log(`region ${config.regionId} listening on ${server.url}`);
    return {
      regionId: config.regionId,
      url: server.url,
      httpUrl: server.httpUrl,
      identityPublicKey: keyring.identity.publicKey,
      enrolledCount: () => registry.liveCount(),
      issueProvisioningCode: () => devices.issueProvisioningCode(config.clock.now()),
      revokeDevice: (deviceId: DeviceId) => {
        const known = devices.revoke(deviceId, config.clock.now());
        const closed = server.revokeDevice(deviceId);
        if (known || closed > 0) config.log(`device ${deviceId} revoked; ${closed} live session(s) closed`);
        return known;
      },
      server,
    };
  }),
);

export const regionNodeLayer = (settings: RegionNodeSettings) =>
  RegionNodeServerLive.pipe(
    Layer.provideMerge(RegionIndexLive),
    Layer.provideMerge(RegionStorageLive),
    Layer.provide(Layer.succeed(RegionNodeConfig, settings)),
  );

/** Starts a node and hands back its services; close() releases everything in reverse order. */
export const startRegionNode = async (settings: RegionNodeSettings): Promise<RegionNodeHandle & { close(): Promise<void> }> => {
  const runtime = ManagedRuntime.make(regionNodeLayer(settings));
  const node = await runtime.runPromise(Effect.gen(function* () {
    return yield* RegionNode;
  }));
  return { ...node, close: () => runtime.dispose() };
};
