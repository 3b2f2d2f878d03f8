// A region's storage for replication tests, with no network and no shards: real SQLite in a
// temporary directory, real libsodium, the region's own storage key, a ManualClock.
import { ManualClock } from "../../core/clock.ts";
import { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import type { IdentityId } from "../../core/ids.ts";
import { IdentityDeletion } from "../../cloud/registry/identity-deletion.ts";
import { IdentityProfiles } from "../../cloud/registry/identity-profile.ts";
import { IdentityRegistry } from "../../cloud/registry/identity-registry.ts";
import { phoneHasher } from "../../cloud/registry/phone-hash.ts";
import { openRegistryDatabase } from "../../cloud/registry/registry-database.ts";
import { RegistryReplica } from "../../cloud/replication/registry-replica.ts";
import type { ReplicatedRecord } from "../../cloud/replication/replicated-record.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { sodiumReady } from "../../cloud/storage/sodium.ts";
import { tempDir } from "../cloud/fixtures.ts";

export const id = (s: string) => s as IdentityId;

export const openReplicaRegion = async (regionId: string, o: { dataDir?: string; clock?: ManualClock; storageKeyByte?: number } = {}) => {
  const sodium = await sodiumReady;
  const dataDir = o.dataDir ?? tempDir(`palmline-${regionId}-`);
  const clock = o.clock ?? new ManualClock(1_700_000_000_000);
  const db = openRegistryDatabase(dataDir, { sweepOrphanKeys: true });
  // Each region its own storage key: replicated data keys must be re-wrapped, not copied.
  const storageKey = new Uint8Array(32).fill(o.storageKeyByte ?? regionId.charCodeAt(0));
  const vault = new IdentityVault(sodium, storageKey);
  const hlc = new HybridLogicalClock(regionId, () => clock.now());
  const phoneHash = phoneHasher(storageKey);
  return {
    regionId,
    dataDir,
    clock,
    db,
    storageKey,
    hlc,
    registry: new IdentityRegistry({ db, vault, hlc, regionId }),
    profiles: new IdentityProfiles({ db, vault, hlc, phoneHash }),
    deletion: new IdentityDeletion(db, hlc),
    replica: new RegistryReplica({ db, vault, hlc, regionId, phoneHash }),
  };
};

export type ReplicaRegion = Awaited<ReturnType<typeof openReplicaRegion>>;

/** Everything `from` changed since `afterSeq`, applied at `to`; returns where `from`'s feed was read up to. */
export const ship = (from: ReplicaRegion, to: ReplicaRegion, afterSeq = 0) => {
  const batch = from.replica.changesSince(afterSeq);
  const outcome = to.replica.apply(batch.records);
  return { ...outcome, upToSeq: batch.upToSeq, records: batch.records };
};

/** Ships both ways until neither has anything new for the other. */
export const syncBoth = (a: ReplicaRegion, b: ReplicaRegion) => {
  ship(a, b);
  ship(b, a);
};

export const wrappedKeyOf = (region: ReplicaRegion, identityId: string) =>
  (region.db.prepare("SELECT wrapped FROM keys.data_keys WHERE identity_id = ?").get(identityId) as { wrapped: Uint8Array } | undefined)?.wrapped;

export const recordOf = (records: readonly ReplicatedRecord[], identityId: string) => records.find((r) => r.identityId === identityId);
