// Replication between real regions under faults: `palmline cloud` child processes on loopback,
// joined by a federation key, each link through a proxy the test cuts and heals, scanners
// provisioned to each region over the secure WebSocket with simulated palms through the real
// ONNX extractor. What must hold after every fault: every region converges to the same registry
// (equal digests), no deleted identity is identifiable anywhere, no live one is lost.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Effect } from "effect";
import { openRegistryAtRest } from "../../cloud/identity/registry-at-rest.ts";
import { newIdentityId } from "../../core/ids.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { syntheticTemplate, tempDir } from "../cloud/fixtures.ts";
import { RegionScanner, startRegionFederation, waitFor, type RegionFederation } from "../support/region-federation.ts";

let extractor: SignatureExtractor;
beforeAll(async () => {
  extractor = await SignatureExtractor.load();
});
afterAll(async () => {
  await extractor.close();
});

/** Runs `body` with a federation and a scanner at each region, and always tears both down. */
const withFederation = async (
  options: { names: readonly string[]; cutOffAtStart?: readonly string[] },
  body: (fed: RegionFederation, scanners: ReadonlyMap<string, RegionScanner>, baseDir: string) => Promise<void>,
  prepare?: (baseDir: string) => Promise<void>,
) => {
  const baseDir = tempDir("palmline-federation-");
  const scanners = new Map<string, RegionScanner>();
  let fed: RegionFederation | undefined;
  try {
    await prepare?.(baseDir);
    fed = await startRegionFederation({ ...options, baseDir });
    options.names.forEach((name, i) =>
      scanners.set(
        name,
        new RegionScanner(fed!.region(name), { name: `scanner-${name}`, stateDir: join(baseDir, `scanner-${name}`), extractor, sensorSeed: 700 + i }),
      ),
    );
    await body(fed, scanners, baseDir);
  } finally {
    for (const s of scanners.values()) s.stop();
    await fed?.close();
    rmSync(baseDir, { recursive: true, force: true });
  }
};

/** Every live person is identified as themselves at every region; no deleted one is identified at all. */
const expectIdentifiableEverywhere = async (
  scanners: ReadonlyMap<string, RegionScanner>,
  live: ReadonlyMap<number, string>,
  deleted: ReadonlyMap<number, string>,
) => {
  for (const [region, scanner] of scanners) {
    for (const [palm, identityId] of live) expect(await scanner.identify(palm), `palm ${palm} at ${region}`).toBe(identityId);
    for (const [palm, identityId] of deleted) {
      const found = await scanner.identify(palm);
      expect(found, `deleted palm ${palm} (${identityId}) at ${region}`).toBeUndefined();
    }
  }
};

test("a region cut off while people enroll, pay and ask for deletion everywhere converges after healing: deletions win, no live identity is lost", async () => {
  const names = ["north", "south", "east"] as const;
  await withFederation({ names }, async (fed, scanners) => {
    const at = (name: (typeof names)[number]) => scanners.get(name)!;
    await fed.waitConnected();
    const live = new Map<number, string>();
    const deleted = new Map<number, string>();
    let palm = 41_000;

    // Before the partition: two people enrolled at each region, replicated everywhere.
    const enrolledAt = new Map<string, number[]>();
    for (const name of names) {
      for (let i = 0; i < 2; i++) {
        const seed = ++palm;
        live.set(seed, await at(name).enroll(seed));
        enrolledAt.set(name, [...(enrolledAt.get(name) ?? []), seed]);
      }
    }
    await fed.waitConverged();

    // East is cut off; every region goes on serving its own scanners.
    fed.cutOff("east");
    const forget = (seed: number) => {
      deleted.set(seed, live.get(seed)!);
      live.delete(seed);
    };
    const northsPerson = enrolledAt.get("north")![0]!;
    const eastsPerson = enrolledAt.get("east")![0]!;
    const southsPerson = enrolledAt.get("south")![0]!;
    // Concurrent across the cut: north deletes east's person while east still sees them use it,
    // and the other way round. The tombstone must dominate the later last-seen.
    expect(await at("north").requestDeletion(eastsPerson)).toBe("deleted");
    expect(await at("east").identify(eastsPerson)).toBe(live.get(eastsPerson));
    expect(await at("east").requestDeletion(northsPerson)).toBe("deleted");
    expect(await at("north").identify(northsPerson)).toBe(live.get(northsPerson));
    expect(await at("south").requestDeletion(southsPerson)).toBe("deleted");
    for (const seed of [eastsPerson, northsPerson, southsPerson]) forget(seed);
    // New people everywhere, and everyone still live uses their palm in every region.
    for (const name of names) {
      for (let i = 0; i < 2; i++) {
        const seed = ++palm;
        live.set(seed, await at(name).enroll(seed));
      }
    }
    const enrolledBeforeCut = [...enrolledAt.values()].flat().filter((seed) => live.has(seed));
    for (const name of names) for (const seed of enrolledBeforeCut) expect(await at(name).identify(seed)).toBe(live.get(seed));

    // The partition is real: north and south agree with each other, east has its own registry.
    const [north] = await fed.waitConverged({ names: ["north", "south"] });
    const east = await fed.region("east").replication();
    expect(east.digest).not.toBe(north!.digest);

    fed.heal("east");
    const converged = await fed.waitConverged({ timeoutMs: 30_000 });
    for (const status of converged) expect(status.live, status.regionId).toBe(live.size);
    await expectIdentifiableEverywhere(scanners, live, deleted);
  });
}, 120_000);

const PREFILLED = 1_500;

/** Identities written into a stopped region's registry the way a bulk import would. */
const prefill = async (dataDir: string, regionId: string, count: number) => {
  const { registry, close } = await openRegistryAtRest({ dataDir, regionId });
  try {
    for (let from = 0; from < count; from += 500) {
      const enrollments = Array.from({ length: Math.min(500, count - from) }, (_, i) => ({
        identityId: newIdentityId(),
        template: syntheticTemplate(90_000 + from + i),
      }));
      await Effect.runPromise(registry.enroll(enrollments, Date.now()));
    }
  } finally {
    await close();
  }
};

test("a region killed with SIGKILL in the middle of a sync and restarted on its data converges", async () => {
  const names = ["north", "south"] as const;
  await withFederation(
    { names, cutOffAtStart: ["south"] },
    async (fed, scanners) => {
      const north = scanners.get("north")!;
      const live = new Map<number, string>();
      for (let seed = 42_001; seed <= 42_003; seed++) live.set(seed, await north.enroll(seed));

      // South joins: the whole of north's registry streams to it. Kill it once part has arrived.
      fed.heal("south");
      const south = fed.region("south");
      const atKill = await waitFor(
        async () => {
          const s = await south.replication().catch(() => undefined);
          return s !== undefined && s.live > 0 ? s : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 20, describe: () => south.process.output.slice(-10).join("\n") },
      );
      await south.kill();
      expect(atKill.live, "south was killed mid-sync, not after it").toBeLessThan(PREFILLED + live.size);

      await south.restart();
      const converged = await fed.waitConverged({ timeoutMs: 60_000 });
      for (const status of converged) expect(status.live, status.regionId).toBe(PREFILLED + live.size);
      await expectIdentifiableEverywhere(scanners, live, new Map());
    },
    (baseDir) => prefill(join(baseDir, "north"), "north", PREFILLED),
  );
}, 120_000);
