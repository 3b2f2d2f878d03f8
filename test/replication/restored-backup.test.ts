// A region restored from a backup taken before a deletion holds the deleted person live again.
// Peers keep every tombstone, so the first anti-entropy round carries the deletion back instead
// of the restored region handing the person back to them; and until that round, the restored
// region decides on no palm. Two real regions in this process (SQLite, shards, libsodium,
// WebSockets on port 0), each on the other's federation list; the backup is a copy of the data
// directory of a stopped node, restored by copying it back.
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { type SimulatedRegion, type SimulatedRegionOptions, startSimulatedRegion } from "../../cli/simulated-region.ts";
import { RegionRefused } from "../../edge/region-link.ts";
import { sealForOneRequest, sealForRequest, syntheticPalm, tempDir } from "../cloud/fixtures.ts";
import { federatedPair } from "../support/federation-lists.ts";
import { waitUntil } from "../support/wait-until.ts";

const PALM = 67;
/** Anti-entropy, and whatever else a region's periodic chore does, every this often. */
const CHORE_MS = 300;

const running = new Set<SimulatedRegion>();
afterEach(async () => {
  for (const region of running) await region.close();
  running.clear();
});

const start = async (regionId: string, settings: SimulatedRegionOptions) => {
  const region = await startSimulatedRegion({ regionId, shardCount: 1, antiEntropyEveryMs: CHORE_MS, ...settings });
  running.add(region);
  return region;
};

const stop = async (region: SimulatedRegion) => {
  running.delete(region);
  await region.close();
};

let captures = 0;
let devices = 0;
/** A fresh device of `region` and a new capture of the one palm these tests use. */
const deviceWithCapture = async (region: SimulatedRegion) => {
  const link = await region.link(`${region.regionId}-device-${++devices}`);
  return { link, sealed: await sealForOneRequest(link, syntheticPalm(PALM)(10 + ++captures)) };
};

/** Whom `region` identifies the palm as, if anyone. */
const identifiedAt = async (region: SimulatedRegion): Promise<string | undefined> => {
  const { link, sealed } = await deviceWithCapture(region);
  try {
    const result = await link.identify(sealed);
    return result.outcome === "match" ? (result.identityId ?? undefined) : undefined;
  } finally {
    link.close();
  }
};

const enrollAt = async (region: SimulatedRegion): Promise<string> => {
  const kiosk = await region.link(`${region.regionId}-kiosk-${++devices}`);
  const card = await region.vaultCard("4242424242424242");
  const sealed = await sealForRequest(kiosk, ...[0, 1, 2, 3].map((capture) => syntheticPalm(PALM)(capture)));
  const enrolled = await kiosk.enroll(sealed, {
    card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
  });
  kiosk.close();
  if (enrolled.outcome !== "enrolled" || enrolled.identityId === undefined) throw new Error(`enrollment failed: ${enrolled.outcome}`);
  return enrolled.identityId;
};

const inSync = (a: SimulatedRegion, b: SimulatedRegion) =>
  (a.node.replication.status().digest === b.node.replication.status().digest && !a.node.replication.resyncing && !b.node.replication.resyncing) || undefined;

test("a region restored from a backup taken before a deletion does not bring the deleted person back", async () => {
  const pair = await federatedPair("b", "a");
  const b = await start("b", pair.listener);
  let a = await start("a", pair.dialler(b.node.url));
  const identityId = await enrollAt(a);
  await waitUntil(async () => (await identifiedAt(b)) === identityId || undefined);

  // The operator backs A up, then the person has themselves deleted at A.
  await stop(a);
  const backup = join(tempDir("palmline-backup-"), "a");
  cpSync(a.dataDir, backup, { recursive: true });
  a = await start("a", pair.dialler(b.node.url));
  const { link: point, sealed } = await deviceWithCapture(a);
  expect((await point.requestDeletion(sealed)).outcome).toBe("deleted");
  point.close();
  await waitUntil(async () => ((await identifiedAt(b)) === undefined && inSync(a, b)) || undefined);
  // Both regions have acknowledged the tombstone, and several chores have run since: whatever a
  // region does with acknowledged tombstones, it has done it now.
  await waitUntil(() => b.node.replication.status().peers.find((p) => p.regionId === "a")?.ackedSeq === b.node.replication.status().latestSeq || undefined);
  await new Promise((resolve) => setTimeout(resolve, 4 * CHORE_MS));

  // A is restored from the backup, which still holds the person live.
  await stop(a);
  rmSync(a.dataDir, { recursive: true, force: true });
  cpSync(backup, a.dataDir, { recursive: true });
  a = await start("a", pair.dialler(b.node.url));
  await waitUntil(() => inSync(a, b));

  expect(await identifiedAt(b)).toBeUndefined();
  expect(await identifiedAt(a)).toBeUndefined();
  expect(b.node.replication.status()).toMatchObject({ live: 0, tombstones: 1 });
  expect(a.node.replication.status()).toMatchObject({ live: 0, tombstones: 1 });
}, 120_000);

test("a region started as restored identifies nobody until it has re-synced with a peer", async () => {
  const pair = await federatedPair("a", "b");
  const a = await start("a", { ...pair.listener, restored: true });
  const early = await identifiedAt(a).catch((error: unknown) => error);
  expect(early).toBeInstanceOf(RegionRefused);
  expect((early as RegionRefused).code).toBe("RegionResyncing");

  const b = await start("b", pair.dialler(a.node.url));
  const identityId = await enrollAt(b);
  await waitUntil(() => inSync(a, b));
  expect(await identifiedAt(a)).toBe(identityId);
}, 120_000);
