// A test-only region core in a child process: the real registry, shards (worker threads,
// snapshots) and identifier, enrolling synthetic palms one after another until it is killed.
// Prints "enrolled <id>" once an enrollment is acknowledged (registry committed, index updated),
// which is what a device would have been told. Usage: node enrolling-node.ts DATA_DIR SEED SNAPSHOT_EVERY
import { PALM_VECTOR_DIMENSION } from "../../core/palm-template-vector.ts";
import { PalmIdentifier } from "../../cloud/identification/palm-identifier.ts";
import { openRegionShards } from "../../cloud/shards/region-shards.ts";
import { openTestRegistry, syntheticPalm, TEST_STORAGE_KEY } from "../cloud/fixtures.ts";

const [dataDir, seedArg, everyArg] = process.argv.slice(2);
const testRegistry = await openTestRegistry(dataDir);
const { registry } = testRegistry;
const region = await openRegionShards({
  registry,
  dataDir: dataDir!,
  storageKey: TEST_STORAGE_KEY,
  shardCount: 2,
  dimension: PALM_VECTOR_DIMENSION,
  log: () => {},
  snapshotEvery: Number(everyArg),
});
const identifier = new PalmIdentifier({ registry, shards: region.shards, index: await testRegistry.follow(region.shards), now: Date.now });
process.stdout.write("ready\n");
for (let seed = Number(seedArg); ; seed++) {
  const palm = syntheticPalm(seed);
  const id = await identifier.enroll([palm(0), palm(1), palm(2)]);
  process.stdout.write(`enrolled ${id} ${seed}\n`);
}
