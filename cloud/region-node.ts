// A regional node, wired with Effect: configuration, scoped resources (database, keyring, index,
// servers) and their order of start and shutdown. Behaviour lives in XState machines and plain
// classes; this file only says what depends on what.
//
//   RegionNodeConfig -> RegionStorage (SQLite registry, keys) -> RegionIndex (FAISS shards)
//                                                              -> RegionFlows (sagas, processor)
//                                                              -> RegionNode (WebSocket + HTTP)
import { Context, Effect, Layer, ManagedRuntime } from "effect";
import type { Clock } from "../core/clock.ts";
import { HybridLogicalClock } from "../core/hybrid-logical-clock.ts";
import type { DeviceId } from "../core/ids.ts";
import { SIGNATURE_DIMENSION } from "../core/palm-signature.ts";
import type { InspectionHub } from "../inspector/inspection-hub.ts";
import { PalmIdentifier } from "./identification/palm-identifier.ts";
import { RegionMetrics } from "./metrics/region-metrics.ts";
import { DeviceDirectory } from "./registry/device-directory.ts";
import { IdentityRegistry } from "./registry/identity-registry.ts";
import { openRegistryDatabase } from "./registry/registry-database.ts";
import type { DatabaseSync } from "node:sqlite";
import { operatorApi } from "./server/operator-api.ts";
import { PhoneVerifier, type SmsGateway } from "./phone/phone-verifier.ts";
import { RegionPortalDirectory } from "./portal/region-portal-directory.ts";
import { portalRoutes } from "./portal/portal-routes.ts";
import { PortalSignIn } from "./portal/portal-sign-in.ts";
import { createRegionFlows, type RegionFlows } from "./session/region-flows.ts";
import { startRegionServer, type RegionServer } from "./server/region-server.ts";
import { openRegionShards } from "./shards/region-shards.ts";
import type { ShardSet } from "./shards/shard-set.ts";
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
  /** The payment processor's HTTP API; without it card enrollment and payments are refused. */
  readonly processorUrl?: string;
  /** Merchants the operator runs (amounts authorized through the region); others are third-party. */
  readonly firstPartyMerchants?: readonly string[];
  /** Bearer token required on the operator API (/api/...); unset leaves it open (local use only). */
  readonly operatorToken?: string;
  readonly sms?: SmsGateway;
  /** Where session and saga actors report for the inspector; none by default. */
  readonly inspection?: InspectionHub;
}

export class RegionNodeConfig extends Context.Service<RegionNodeConfig, RegionNodeSettings>()("palmline/RegionNodeConfig") {}

export class RegionStorage extends Context.Service<
  RegionStorage,
  {
    readonly keyring: RegionKeyring;
    readonly registry: IdentityRegistry;
    readonly devices: DeviceDirectory;
    readonly db: DatabaseSync;
    readonly hlc: HybridLogicalClock;
    readonly sodium: Awaited<typeof sodiumReady>;
  }
>()("palmline/RegionStorage") {}

export class RegionIndex extends Context.Service<
  RegionIndex,
  { readonly shards: ShardSet; readonly buildMs: number; readonly identifier: PalmIdentifier; readonly metrics: RegionMetrics }
>()("palmline/RegionIndex") {}

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
  readonly flows: RegionFlows;
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
      db,
      hlc,
      sodium,
    };
  }),
);

// Shards are derived state, on worker threads: loaded from their snapshot, the registry replayed
// since it and checked against it (cloud/shards/region-shards.ts), so they hold exactly the live
// registry. Released with a final snapshot, then the workers stop.
const RegionIndexLive = Layer.effect(
  RegionIndex,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { registry } = yield* RegionStorage;
    const region = yield* Effect.acquireRelease(
      Effect.promise(() =>
        openRegionShards({ registry, dataDir: config.dataDir, shardCount: config.shardCount, dimension: SIGNATURE_DIMENSION, log: config.log }),
      ),
      (opened) => Effect.promise(() => opened.close()),
    );
    // One identifier for the whole node: it serialises enrollments, so the duplicate check holds
    // across every path that enrolls (device sessions and the enrollment saga alike).
    const metrics = new RegionMetrics();
    const identifier = new PalmIdentifier({
      registry,
      shards: region.shards,
      now: () => config.clock.now(),
      observe: (outcome, seconds) => metrics.recordIdentification(outcome, seconds),
    });
    return { shards: region.shards, buildMs: region.report.ms, identifier, metrics };
  }),
);

export class RegionFlowsService extends Context.Service<RegionFlowsService, RegionFlows>()("palmline/RegionFlows") {}

// Enrollment, payment, gate and deletion sagas over the same registry and index as identification.
const RegionFlowsLive = Layer.effect(
  RegionFlowsService,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { keyring, registry, db, hlc, sodium } = yield* RegionStorage;
    const { shards, identifier } = yield* RegionIndex;
    return createRegionFlows({
      db,
      sodium,
      storageKey: keyring.storageKey,
      hlc,
      identifier,
      shards,
      templateKeys: keyring.template,
      clock: config.clock,
      log: config.log,
      ...(config.processorUrl !== undefined ? { processorUrl: config.processorUrl } : {}),
      ...(config.firstPartyMerchants !== undefined ? { firstPartyMerchants: config.firstPartyMerchants } : {}),
      ...(config.sms !== undefined ? { sms: config.sms } : {}),
      ...(config.inspection !== undefined ? { inspectSagas: config.inspection.inspectAs("sagas") } : {}),
    });
  }),
);

const RegionNodeServerLive = Layer.effect(
  RegionNode,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { keyring, registry, devices, db } = yield* RegionStorage;
    const { shards, identifier, metrics } = yield* RegionIndex;
    const flows = yield* RegionFlowsService;
    const portalSignIn = new PortalSignIn({
      verifier: new PhoneVerifier(flows.sms, config.clock),
      clock: config.clock,
      identityByPhone: (phone) => flows.profiles.findByPhone(phone),
    });
    const portal = portalRoutes({ signIn: portalSignIn, directory: new RegionPortalDirectory(db, flows), log: config.log });
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
          flows,
          ...(config.inspection !== undefined ? { inspectSessions: config.inspection.inspectAs("sessions") } : {}),
          routes: [portal, metrics.route()],
          api: operatorApi(flows, {
            ...(config.operatorToken !== undefined ? { operatorToken: config.operatorToken } : {}),
            now: () => config.clock.now(),
            isLive: (identityId) => registry.isLive(identityId),
          }),
        }),
      ),
      (s) => Effect.promise(() => s.close()),
    );
    metrics.watch({ sessions: () => server.sessions.size, shardSizes: () => shards.shardSizes, enrolled: () => registry.liveCount() });
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
      flows,
    };
  }),
);

export const regionNodeLayer = (settings: RegionNodeSettings) =>
  RegionNodeServerLive.pipe(
    Layer.provideMerge(RegionFlowsLive),
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
