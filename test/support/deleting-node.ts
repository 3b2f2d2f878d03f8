// A test-only region core in a child process: the real registry, shards (worker threads, sealed
// snapshots) and their follower over an existing data directory. Tombstones the identity given,
// prints "erased" once the follower confirms no snapshot on disk holds it (what a deletion waits
// for before it is answered), then idles until it is killed.
// Usage: node deleting-node.ts DATA_DIR IDENTITY_ID
import { Effect } from "effect";
import type { IdentityId } from "../../core/ids.ts";
import { PALM_VECTOR_DIMENSION } from "../../core/palm-template-vector.ts";
import { openRegionShards } from "../../cloud/shards/region-shards.ts";
import { openTestRegistry, TEST_STORAGE_KEY } from "../cloud/fixtures.ts";

const [dataDir, identityId] = process.argv.slice(2);
const testRegistry = await openTestRegistry(dataDir);
const { registry } = testRegistry;
const region = await openRegionShards({
  registry,
  dataDir: dataDir!,
  storageKey: TEST_STORAGE_KEY,
  shardCount: 2,
  dimension: PALM_VECTOR_DIMENSION,
  log: () => {},
});
const follower = await testRegistry.follow(region.shards, region.snapshot);
const change = Effect.runSync(registry.tombstone(identityId as IdentityId, 2_000, "requested"));
await follower.erased(change.seq);
process.stdout.write("erased\n");
setInterval(() => {}, 60_000);
