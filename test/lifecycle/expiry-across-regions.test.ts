// Two years without use, across regions: last-seen is a replicated max-register, so using an
// identity in one region keeps it alive in the region that enrolled it, and the expiry that
// finally comes reaches every region as a tombstone. Both regions' registries, sweepers and
// last-seen run on one ManualClock; their replication links poll on real time (they are transport
// cadence), so `flow()` waits for the records to cross.
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { startProcessorSimulator } from "../../cloud/payments/processor-simulator.ts";
import { FOREIGN_EXPIRY_GRACE_MS } from "../../cloud/lifecycle/expiry-sweeper.ts";
import { ManualClock } from "../../core/clock.ts";
import { EXPIRY_MS } from "../../core/identity-expiry.ts";
import { tempDir } from "../cloud/fixtures.ts";
import { regionKeyIn, writeFederationList } from "../support/federation-lists.ts";
import { DAY_MS, START_MS, startLifecycleRegion, type LifecycleRegion } from "./lifecycle-region.ts";

let clock: ManualClock;
let processor: Awaited<ReturnType<typeof startProcessorSimulator>>;
let home: LifecycleRegion | undefined;
let away: LifecycleRegion;

/** Waits (in real time: the links poll every 50 ms) until replication has brought something about. */
const flow = async (until: () => boolean, what: string) => {
  for (let step = 0; step < 500; step++) {
    if (until()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`replication did not bring about: ${what}`);
};

const lastSeenAt = (region: LifecycleRegion, identityId: string) => region.row(identityId)?.lastSeen;
const deletedAt = (region: LifecycleRegion, identityId: string) => region.row(identityId)?.deleted != null;

/** Moves both regions' time forward and lets their sweepers act on whatever fell due. */
const pass = async (ms: number) => {
  clock.advance(ms);
  await home?.node.expiry.settled();
  await away.node.expiry.settled();
};

const identifiedAt = async (region: LifecycleRegion, palmSeed: number) => {
  const link = await region.link(`scanner-${clock.now()}`);
  const result = await link.identify(await region.seal(link, palmSeed, 7));
  link.close();
  return result.outcome === "match" ? result.identityId : undefined;
};

beforeEach(async () => {
  clock = new ManualClock(START_MS);
  processor = await startProcessorSimulator();
  // Each region's list names the other's identity key (created in its data directory up front).
  const [awayDir, homeDir] = [tempDir("palmline-away-"), tempDir("palmline-home-")];
  const [awayKey, homeKey] = await Promise.all([regionKeyIn(awayDir), regionKeyIn(homeDir)]);
  const awayList = writeFederationList(join(awayDir, "federation.json"), [{ regionId: "home", identityPublicKey: homeKey }]);
  away = await startLifecycleRegion({ clock, processor, regionId: "away", dataDir: awayDir, federation: { membersFile: awayList } });
  const homeList = writeFederationList(join(homeDir, "federation.json"), [{ regionId: "away", identityPublicKey: awayKey, url: away.node.url }]);
  home = await startLifecycleRegion({ clock, processor, regionId: "home", dataDir: homeDir, federation: { membersFile: homeList } });
  await flow(() => home!.node.replication.status().peers.some((p) => p.connected), "home and away linked");
}, 60_000);

afterEach(async () => {
  await home?.close();
  await away?.close();
  await processor?.close();
});

test("a use in another region keeps the identity alive in the region that enrolled it, and it expires everywhere two years after that use", async () => {
  const home_ = home!;
  const identityId = await home_.enroll(31);
  await flow(() => away.row(identityId) !== undefined, "the enrollment reached away");

  await pass(EXPIRY_MS - 30 * DAY_MS);
  expect(await identifiedAt(away, 31)).toBe(identityId);
  const usedAt = clock.now();
  await flow(() => lastSeenAt(home_, identityId) === usedAt, "away's use reached home");

  // Past the two years since enrollment: home knows of the later use and keeps the identity.
  await pass(60 * DAY_MS);
  expect(deletedAt(home_, identityId)).toBe(false);
  expect(deletedAt(away, identityId)).toBe(false);

  // Two years after the use, home (which enrolled it) expires it; the tombstone reaches away.
  await pass(usedAt + EXPIRY_MS - clock.now());
  expect(deletedAt(home_, identityId)).toBe(true);
  await flow(() => deletedAt(away, identityId), "home's expiry reached away");
  expect(await identifiedAt(away, 31)).toBeUndefined();
}, 120_000);

test("a region expires an identity enrolled elsewhere only after the grace period, when the enrolling region has not", async () => {
  const identityId = await home!.enroll(32);
  await flow(() => away.row(identityId) !== undefined, "the enrollment reached away");
  await home!.close(); // the enrolling region is gone for good
  home = undefined;

  await pass(EXPIRY_MS);
  expect(deletedAt(away, identityId)).toBe(false);
  await pass(FOREIGN_EXPIRY_GRACE_MS);
  expect(deletedAt(away, identityId)).toBe(true);
}, 120_000);
