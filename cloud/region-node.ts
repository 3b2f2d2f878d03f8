// A regional node, wired with Effect: configuration, scoped resources (database, keyring, index,
// servers) and their order of start and shutdown. Behaviour lives in XState machines and plain
// classes; this file only says what depends on what.
//
//   RegionNodeConfig -> RegionStorage (SQLite database, identity registry, keys) -> RegionIndex (FAISS shards following the registry)
//                                                              -> RegionServices (sagas, processor)
//                                                              -> RegionReplication (peer links; settles deletions)
//                                                              -> RegionNode (WebSocket + HTTP)
import { Context, Effect, Layer, ManagedRuntime, PubSub } from "effect";
import type { Clock } from "../core/clock.ts";
import { HybridLogicalClock } from "../core/hybrid-logical-clock.ts";
import type { DeviceId } from "../core/ids.ts";
import { PALM_VECTOR_DIMENSION } from "../core/palm-template-vector.ts";
import type { InspectionHub } from "../inspector/inspection-hub.ts";
import { PalmIdentifier } from "./identification/palm-identifier.ts";
import type { IdentificationPolicy } from "../core/identification-policy.ts";
import type { RateLimit } from "../protocol/token-bucket.ts";
import { AuthorizationExpiry } from "./lifecycle/authorization-expiry.ts";
import { ExpirySweeper } from "./lifecycle/expiry-sweeper.ts";
import { RegionMetrics } from "./metrics/region-metrics.ts";
import { FederationKeys } from "./replication/federation-keys.ts";
import { RegionReplication } from "./replication/region-replication.ts";
import { ResyncHold } from "./replication/resync-hold.ts";
import { IdentityRegistry, identityRegistryLayer, type IdentityRegistryShape } from "./identity/identity-registry.ts";
import { phoneHasher } from "./identity/phone-hash.ts";
import type { RegistryChange } from "./identity/registry-change.ts";
import { followRegistry, type RegistryFollower } from "./shards/registry-follower.ts";
import { DeviceDirectory } from "./storage/sqlite/device-directory.ts";
import type { DeviceBinding } from "./storage/device-binding.ts";
import { RegionDatabase, regionDatabaseLayer } from "./storage/sqlite/region-database.ts";
import { SqliteIdentityStorageLive } from "./storage/sqlite/sqlite-identity-storage.ts";
import { operatorApi } from "./server/operator-api.ts";
import type { SmsGateway } from "./phone/phone-verifier.ts";
import { RegionPortalDirectory } from "./portal/region-portal-directory.ts";
import { portalRoutes } from "./portal/portal-routes.ts";
import { PortalSignIn } from "./portal/portal-sign-in.ts";
import { createRegionServices, type RegionServices } from "./session/region-services.ts";
import { startRegionServer, type RegionServer, type ServerTls } from "./server/region-server.ts";
import { openRegionShards } from "./shards/region-shards.ts";
import type { ShardSet } from "./shards/shard-set.ts";
import { IdentityVault } from "./storage/identity-vault.ts";
import { loadOrCreateRegionKeyring, type RegionKeyring } from "./storage/region-keyring.ts";
import { loadSodium } from "../protocol/sodium.ts";
import { loadOrCreateTokenFile, type SecretFileRefused } from "../http/secret-file.ts";
import { join } from "node:path";

/** Where a node keeps the operator token it made itself, in its data directory. */
export const OPERATOR_TOKEN_FILE = "operator-token";

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
  /**
   * Bearer token required on the operator API (/api/...). Without one the node keeps its own in
   * <dataDir>/operator-token, created (0600) at first start and never overwritten.
   */
  readonly operatorToken?: string;
  /** Bearer token a /metrics scrape must carry; without one /metrics is public. */
  readonly metricsToken?: string;
  /** Serve HTTP and WebSocket over TLS on the node's port (cloud/server/region-server.ts). */
  readonly tls?: ServerTls;
  readonly sms?: SmsGateway;
  /** Where session and saga actors report for the inspector; none by default. */
  readonly inspection?: InspectionHub;
  /** The federation list (cloud/replication/federation-members.ts): who may link, and where to dial; without it the region replicates with nobody. */
  readonly federationMembersFile?: string;
  /** How often each link runs anti-entropy (default 30 s). */
  readonly antiEntropyEveryMs?: number;
  /**
   * The data directory was restored from a backup: serve no identification or enrollment until
   * re-synced with a peer (cloud/replication/resync-hold.ts). A restore a peer notices holds too.
   */
  readonly restored?: boolean;
  /**
   * What the replication links' polls, redials and chores wait on; defaults to `clock`. These are
   * transport cadence (a feed poll every 50 ms), not the registry's time: a test that moves the
   * node's clock forward by years keeps them on the system clock, or the jump would replay every
   * poll in between.
   */
  readonly replicationTimers?: Clock;
  /** How identification decides among N (core/identification-policy.ts); the provisional two-stage calibration at FPIR 1e-4 by default. */
  readonly identificationPolicy?: IdentificationPolicy;
  /** Unrecognised palms a device may present before it is rate-limited (cloud/session/probe-guard.ts). */
  readonly probeLimit?: RateLimit;
}

export class RegionNodeConfig extends Context.Service<RegionNodeConfig, RegionNodeSettings>()("palmline/RegionNodeConfig") {}

export class RegionStorage extends Context.Service<
  RegionStorage,
  {
    readonly keyring: RegionKeyring;
    /** The one owner of identity state (cloud/identity/identity-registry.ts). */
    readonly registry: IdentityRegistryShape;
    readonly devices: DeviceDirectory;
    /** The payment ledger's rows live in the region database too. */
    readonly ledgerDatabase: RegionDatabase["Service"]["db"];
    /** The federation list's keys, which replicated writes verify against (none without a list). */
    readonly federationKeys: FederationKeys | undefined;
  }
>()("palmline/RegionStorage") {}

export class RegionIndex extends Context.Service<
  RegionIndex,
  {
    readonly shards: ShardSet;
    readonly buildMs: number;
    readonly identifier: PalmIdentifier;
    readonly metrics: RegionMetrics;
    readonly index: RegistryFollower;
    /** Held while a restored region has not re-synced: the identifier decides on no palm. */
    readonly resync: ResyncHold;
  }
>()("palmline/RegionIndex") {}

export interface RegionNodeHandle {
  readonly regionId: string;
  readonly url: string;
  readonly httpUrl: string;
  readonly identityPublicKey: Uint8Array;
  /** The operator API's bearer token, for the operator's tools in this process. */
  readonly operatorToken: string;
  /** The file the token was read from or created in; undefined when the settings gave it. */
  readonly operatorTokenFile: string | undefined;
  readonly enrolledCount: () => number;
  /** A one-time code for one device, bound as named (roles, merchant, venue). */
  readonly issueProvisioningCode: (binding: DeviceBinding) => string;
  /** Marks the device revoked and closes its live sessions immediately. */
  readonly revokeDevice: (deviceId: DeviceId) => boolean;
  readonly server: RegionServer;
  readonly flows: RegionServices;
  /** Links with peer regions, their status and on-demand anti-entropy. */
  readonly replication: RegionReplication;
  /** Deletes identities unused for two years, at the deadlines the registry holds. */
  readonly expiry: ExpirySweeper;
  /** Voids approvals nobody settled within their lifetime (cloud/lifecycle/authorization-expiry.ts). */
  readonly authorizationExpiry: AuthorizationExpiry;
}

export class RegionNode extends Context.Service<RegionNode, RegionNodeHandle>()("palmline/RegionNode") {}

/** The region's keys, loaded (or created) once: the storage key wraps every data key. */
class RegionKeys extends Context.Service<
  RegionKeys,
  {
    readonly keyring: RegionKeyring;
    readonly vault: IdentityVault;
    /** The federation list's keys, which replicated writes verify against (none without a list). */
    readonly federationKeys: FederationKeys | undefined;
  }
>()("palmline/RegionKeys") {}

// The region database, identity storage over it (SQLite) and the registry over that. The
// database closes after everything that uses it.
const regionStorageLayer = (settings: RegionNodeSettings) =>
  Layer.effect(
    RegionStorage,
    Effect.gen(function* () {
      const { keyring, federationKeys } = yield* RegionKeys;
      const { db } = yield* RegionDatabase;
      const registry = yield* IdentityRegistry;
      return { keyring, registry, devices: new DeviceDirectory(db), ledgerDatabase: db, federationKeys };
    }),
  ).pipe(
    Layer.provideMerge(
      Layer.unwrap(
        Effect.gen(function* () {
          const { keyring, vault, federationKeys } = yield* RegionKeys;
          return identityRegistryLayer({
            ...(federationKeys !== undefined ? { regionKeys: federationKeys } : {}),
            regionId: settings.regionId,
            vault,
            sodium: yield* Effect.promise(loadSodium),
            identityKey: keyring.identity,
            hlc: new HybridLogicalClock(settings.regionId, () => settings.clock.now()),
            phoneHash: phoneHasher(keyring.storageKey),
          });
        }),
      ),
    ),
    Layer.provideMerge(SqliteIdentityStorageLive),
    Layer.provideMerge(regionDatabaseLayer(settings.dataDir)),
    Layer.provideMerge(
      Layer.effect(
        RegionKeys,
        Effect.gen(function* () {
          const sodium = yield* Effect.promise(loadSodium);
          const keyring = yield* Effect.promise(() => loadOrCreateRegionKeyring(settings.dataDir));
          // Filled from the list by RegionReplication, which loads and checks it (and reloads it).
          const federationKeys =
            settings.federationMembersFile !== undefined ? new FederationKeys(settings.regionId, keyring.identity.publicKey, new Map()) : undefined;
          return { keyring, vault: new IdentityVault(sodium, keyring.storageKey), federationKeys };
        }),
      ),
    ),
  );

// Shards are derived state, on worker threads: loaded from their snapshot, the registry replayed
// since it and checked against it (cloud/shards/region-shards.ts), so they hold exactly the live
// registry. Released with a final snapshot, then the workers stop.
const RegionIndexLive = Layer.effect(
  RegionIndex,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { registry, keyring } = yield* RegionStorage;
    const region = yield* Effect.acquireRelease(
      Effect.promise(() =>
        openRegionShards({
          registry,
          dataDir: config.dataDir,
          storageKey: keyring.storageKey,
          shardCount: config.shardCount,
          dimension: PALM_VECTOR_DIMENSION,
          log: config.log,
        }),
      ),
      (opened) => Effect.promise(() => opened.close()),
    );
    // One identifier for the whole node: it serialises enrollments, so the duplicate check holds
    // across every path that enrolls (device sessions and the enrollment saga alike).
    const metrics = new RegionMetrics();
    // Every registry commit reaches the index in order (cloud/shards/registry-follower.ts).
    const index = yield* followRegistry(registry, region.shards, config.log, region.snapshot);
    const resync = new ResyncHold(config.restored === true ? "started as restored from a backup" : undefined);
    const identifier = new PalmIdentifier({
      resync,
      registry,
      shards: region.shards,
      index,
      now: () => config.clock.now(),
      observe: (outcome, seconds) => metrics.recordIdentification(outcome, seconds),
      ...(config.identificationPolicy !== undefined ? { policy: config.identificationPolicy } : {}),
    });
    return { shards: region.shards, buildMs: region.report.ms, identifier, metrics, index, resync };
  }),
);

export class RegionReplicationService extends Context.Service<RegionReplicationService, RegionReplication>()("palmline/RegionReplication") {}

// Links with peer regions: registry changes stream both ways, applied through the registry's CRDT
// merge and indexed like local enrollments. Stopped before the index and the database close.
const RegionReplicationLive = Layer.effect(
  RegionReplicationService,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { keyring, registry, federationKeys } = yield* RegionStorage;
    const { metrics, index, resync } = yield* RegionIndex;
    const flows = yield* RegionServicesTag;
    const sodium = yield* Effect.promise(loadSodium);
    // Subscribed before anything can commit, so no change is missed.
    const subscription = yield* registry.subscribeChanges;
    const replication = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const service = new RegionReplication({
          regionId: config.regionId,
          identity: keyring.identity,
          sodium,
          ...(config.federationMembersFile !== undefined ? { membersFile: config.federationMembersFile } : {}),
          registry,
          // A batch is acknowledged once applied, indexed and, for tombstones, erased from disk.
          indexed: (seq) => index.erased(seq),
          clock: config.replicationTimers ?? config.clock,
          registryNow: () => config.clock.now(),
          ...(federationKeys !== undefined ? { keys: federationKeys } : {}),
          resync,
          log: config.log,
          ...(config.antiEntropyEveryMs !== undefined ? { antiEntropyEveryMs: config.antiEntropyEveryMs } : {}),
        });
        service.start();
        return service;
      }),
      (service) =>
        Effect.promise(async () => {
          await service.stop();
          await flows.deletions.idle(); // a deletion an applied batch started finishes before the index closes
        }),
    );
    // Every change goes out to the peers; records merged from peers are counted, and may carry
    // another region's open payments dropping to 0: a deletion requested here and waiting for
    // them may complete now.
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.map(PubSub.take(subscription), (change: RegistryChange) => {
          // Merged records go on too: to the other peers, and back where the merge added to them.
          replication.registryChanged();
          if (change.source === "local") return;
          metrics.recordReplicated(change.changed.length);
          flows.deletions
            .settlePending()
            .catch((error: unknown) => config.log(`pending deletions not settled: ${error instanceof Error ? error.message : String(error)}`));
        }),
      ),
    );
    metrics.watchReplication(() => replication.lagSeconds());
    return replication;
  }),
);

export class RegionServicesTag extends Context.Service<RegionServicesTag, RegionServices>()("palmline/RegionServices") {}

// Enrollment, payment, gate and deletion sagas over the same registry and index as identification.
const RegionServicesLive = Layer.effect(
  RegionServicesTag,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { keyring, registry, ledgerDatabase } = yield* RegionStorage;
    const { identifier, index } = yield* RegionIndex;
    return createRegionServices({
      registry,
      ledger: ledgerDatabase,
      identifier,
      index,
      templateKeys: keyring.template,
      clock: config.clock,
      log: config.log,
      ...(config.processorUrl !== undefined ? { processorUrl: config.processorUrl } : {}),
      ...(config.firstPartyMerchants !== undefined ? { firstPartyMerchants: config.firstPartyMerchants } : {}),
      ...(config.sms !== undefined ? { sms: config.sms } : {}),
      ...(config.inspection !== undefined ? { inspectSagas: config.inspection.inspectAs("sagas") } : {}),
      ...(config.probeLimit !== undefined ? { probeLimit: config.probeLimit } : {}),
    });
  }),
);

const RegionNodeServerLive = Layer.effect(
  RegionNode,
  Effect.gen(function* () {
    const config = yield* RegionNodeConfig;
    const { keyring, registry, devices } = yield* RegionStorage;
    const { shards, identifier, metrics } = yield* RegionIndex;
    const flows = yield* RegionServicesTag;
    const replication = yield* RegionReplicationService;
    const portalSignIn = new PortalSignIn({
      verifier: flows.phones, // one budget per number, whether the kiosk or the portal asks
      clock: config.clock,
      identityByPhone: (phone) => Effect.runSync(flows.registry.findByPhone(phone)),
    });
    const portal = portalRoutes({ signIn: portalSignIn, directory: new RegionPortalDirectory(flows), log: config.log, overTls: config.tls !== undefined });
    const operatorTokenFile = config.operatorToken === undefined ? join(config.dataDir, OPERATOR_TOKEN_FILE) : undefined;
    const operatorToken =
      operatorTokenFile === undefined
        ? config.operatorToken!
        : yield* Effect.try({
            try: () => {
              const { token, created } = loadOrCreateTokenFile(operatorTokenFile);
              if (created) config.log(`operator token created in ${operatorTokenFile} (mode 0600)`);
              return token;
            },
            catch: (error) => error as SecretFileRefused,
          });
    // Marks the device revoked and closes its live sessions at once (the operator API's route and
    // the node's handle both ask this; requests arrive only once the server below is listening).
    const revokeDevice = (deviceId: DeviceId): boolean => {
      const known = devices.revoke(deviceId, config.clock.now());
      const closed = server.revokeDevice(deviceId);
      if (known || closed > 0) config.log(`device ${deviceId} revoked; ${closed} live session(s) closed`);
      return known;
    };
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
          status: () => ({ enrolled: Effect.runSync(registry.liveCount()), indexed: shards.size }),
          flows,
          ...(config.inspection !== undefined ? { inspectSessions: config.inspection.inspectAs("sessions") } : {}),
          routes: [portal, metrics.route(config.metricsToken)],
          ...(config.tls !== undefined ? { tls: config.tls } : {}),
          replication,
          api: operatorApi(flows, {
            replication: () => replication.status(),
            operatorToken,
            now: () => config.clock.now(),
            isLive: (identityId) => Effect.runSync(registry.isLive(identityId)),
            revokeDevice,
            listenHost: config.host,
          }),
        }),
      ),
      (s) => Effect.promise(() => s.close()),
    );
    metrics.watch({ sessions: () => server.sessions.size, shardSizes: () => shards.shardSizes, enrolled: () => Effect.runSync(registry.liveCount()) });
    metrics.watchProbes(flows.probes); // probing, per device, for the operator (cloud/session/probe-guard.ts)
    // Payments a crash left "authorizing": their devices get a window to retry, then the rest are
    // re-driven by key and voided or declined (cloud/sagas/payments.ts).
    yield* Effect.acquireRelease(
      Effect.sync(() => flows.payments.sweepAbandoned()),
      (cancel) => Effect.sync(cancel),
    );
    // Approvals nobody settled within their lifetime are voided (at start too), so none keeps a
    // hold on a card or a deletion waiting for ever.
    const authorizationExpiry = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const sweeper = new AuthorizationExpiry({ ledger: flows.ledger, payments: flows.payments, clock: config.clock, log: config.log });
        sweeper.start();
        return sweeper;
      }),
      (sweeper) =>
        Effect.promise(async () => {
          await sweeper.stop();
          await flows.deletions.idle(); // a deletion a void released finishes before the database closes
        }),
    );
    // Deletions whose payments settled while the node was down complete now; expiry deletes what
    // fell due meanwhile, then follows the registry's next deadline until the node stops.
    const expiry = yield* Effect.acquireRelease(
      Effect.promise(async () => {
        await flows.deletions.settlePending();
        const sweeper = new ExpirySweeper({
          registry,
          deletions: flows.deletions,
          clock: config.clock,
          log: config.log,
          expired: (n) => metrics.identitiesExpired.inc({}, n),
        });
        sweeper.start();
        return sweeper;
      }),
      (sweeper) =>
        Effect.promise(async () => {
          await sweeper.stop();
          await flows.deletions.idle(); // a deletion under way finishes before the database closes
        }),
    );
    config.log(`region ${config.regionId} listening on ${server.url}`);
    return {
      regionId: config.regionId,
      url: server.url,
      httpUrl: server.httpUrl,
      identityPublicKey: keyring.identity.publicKey,
      operatorToken,
      operatorTokenFile,
      enrolledCount: () => Effect.runSync(registry.liveCount()),
      issueProvisioningCode: (binding: DeviceBinding) => devices.issueProvisioningCode(binding, config.clock.now()),
      revokeDevice,
      server,
      flows,
      replication,
      expiry,
      authorizationExpiry,
    };
  }),
);

export const regionNodeLayer = (settings: RegionNodeSettings) =>
  RegionNodeServerLive.pipe(
    Layer.provideMerge(RegionReplicationLive),
    Layer.provideMerge(RegionServicesLive),
    Layer.provideMerge(RegionIndexLive),
    Layer.provideMerge(regionStorageLayer(settings)),
    Layer.provide(Layer.succeed(RegionNodeConfig, settings)),
  );

/** Starts a node and hands back its services; close() releases everything in reverse order. */
export const startRegionNode = async (settings: RegionNodeSettings): Promise<RegionNodeHandle & { close(): Promise<void> }> => {
  const runtime = ManagedRuntime.make(regionNodeLayer(settings));
  const node = await runtime.runPromise(
    Effect.gen(function* () {
      return yield* RegionNode;
    }),
  );
  return { ...node, close: () => runtime.dispose() };
};
