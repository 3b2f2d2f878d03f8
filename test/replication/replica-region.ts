// A region's identity registry for replication tests, with no network and no shards: real SQLite
// in a temporary directory, real libsodium, the region's own storage key, a ManualClock.
import { Effect, PubSub } from "effect";
import { ManualClock } from "../../core/clock.ts";
import { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import type { IdentityId } from "../../core/ids.ts";
import type { PalmTemplate } from "../../core/palm-template.ts";
import { makeIdentityRegistry } from "../../cloud/identity/identity-registry.ts";
import { phoneHasher } from "../../cloud/identity/phone-hash.ts";
import type { ReplicatedRecord } from "../../cloud/identity/replicated-record.ts";
import { IdentityStorage } from "../../cloud/storage/identity-storage.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { openRegistryDatabase } from "../../cloud/storage/sqlite/registry-database.ts";
import { sqliteIdentityStorage } from "../../cloud/storage/sqlite/sqlite-identity-storage.ts";
import { tempDir } from "../cloud/fixtures.ts";
import { testRegionIdentityKey, testRegionKeys } from "../support/test-region-keys.ts";

export const id = (s: string) => s as IdentityId;

/** Runs one registry operation (SQLite answers synchronously). */
export const run = <A, E>(effect: Effect.Effect<A, E>): A => Effect.runSync(effect);

/** The error a registry operation fails with; throws if it succeeds. */
export const failure = <A, E>(effect: Effect.Effect<A, E>): E => Effect.runSync(Effect.flip(effect));

export const openReplicaRegion = async (regionId: string, o: { dataDir?: string; clock?: ManualClock; storageKeyByte?: number } = {}) => {
  const sodium = await loadSodium();
  const dataDir = o.dataDir ?? tempDir(`palmline-${regionId}-`);
  const clock = o.clock ?? new ManualClock(1_700_000_000_000);
  const db = openRegistryDatabase(dataDir, { sweepOrphanKeys: true });
  // Each region its own storage key: replicated data keys must be re-wrapped, not copied.
  const storageKey = new Uint8Array(32).fill(o.storageKeyByte ?? regionId.charCodeAt(0));
  const hlc = new HybridLogicalClock(regionId, () => clock.now());
  const registry = run(
    makeIdentityRegistry({
      regionId,
      vault: new IdentityVault(sodium, storageKey),
      sodium,
      identityKey: testRegionIdentityKey(sodium, regionId),
      regionKeys: testRegionKeys(sodium),
      hlc,
      phoneHash: phoneHasher(storageKey),
    }).pipe(Effect.provideService(IdentityStorage, sqliteIdentityStorage(db))),
  );
  return { regionId, dataDir, clock, db, storageKey, hlc, registry };
};

export type ReplicaRegion = Awaited<ReturnType<typeof openReplicaRegion>>;

/** One new identity enrolled at a region, stamped at its clock's time unless told otherwise. */
export const enroll = (region: ReplicaRegion, identityId: string, template: PalmTemplate, nowMs = region.clock.now()) =>
  run(region.registry.enroll([{ identityId: id(identityId), template }], nowMs));

/**
 * Peers' records merged at a region: the merge's outcome, with what its commit published for the
 * index (live identities to index, identities to take out).
 */
export const mergeAt = (region: ReplicaRegion, records: readonly ReplicatedRecord[]) =>
  run(
    Effect.scoped(
      Effect.gen(function* () {
        const changes = yield* region.registry.subscribeChanges;
        const outcome = yield* region.registry.merge(records);
        const published = yield* PubSub.takeUpTo(changes, Number.MAX_SAFE_INTEGER);
        return { ...outcome, indexed: published.flatMap((c) => c.indexed), removed: published.flatMap((c) => c.removed) };
      }),
    ),
  );

/** Everything `from` changed since `afterSeq`, merged at `to`; returns where `from`'s feed was read up to. */
export const ship = (from: ReplicaRegion, to: ReplicaRegion, afterSeq = 0) => {
  const batch = run(from.registry.changesSince(afterSeq));
  const outcome = mergeAt(to, batch.records);
  return { ...outcome, upToSeq: batch.upToSeq, records: batch.records };
};

/** Ships both ways until neither has anything new for the other. */
export const syncBoth = (a: ReplicaRegion, b: ReplicaRegion) => {
  ship(a, b);
  ship(b, a);
};

/** Every record of a region whose id falls in one of the buckets (a whole anti-entropy answer). */
export const recordsInBuckets = (region: ReplicaRegion, buckets: readonly number[]) =>
  run(region.registry.recordsInBuckets(buckets, undefined, Number.MAX_SAFE_INTEGER));

export const wrappedKeyOf = (region: ReplicaRegion, identityId: string) =>
  (region.db.prepare("SELECT wrapped FROM keys.data_keys WHERE identity_id = ?").get(identityId) as { wrapped: Uint8Array } | undefined)?.wrapped;

export const recordOf = (records: readonly ReplicatedRecord[], identityId: string) => records.find((r) => r.identityId === identityId);
