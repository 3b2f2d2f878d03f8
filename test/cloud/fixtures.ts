// Real building blocks for cloud tests: a registry in a temporary directory with real SQLite,
// real libsodium at-rest encryption, and synthetic palm probes coded like the extractor's output
// (two channels, 12 orientations on a 32x32 grid, about 15% of cells masked). Each palm is a random
// code; each capture of it changes some cells' orientation by one step, a few at random, and
// moves some cells in or out of the mask, so captures of one palm score about 0.95 and captures
// of two palms about 0.55, as real captures do (docs/biometrics.md).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Exit, Layer, ManagedRuntime, Scope } from "effect";
import { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import { palmTemplateFromCells, type PalmProbe, type PalmTemplate } from "../../core/palm-template.ts";
import { IdentityRegistry, identityRegistryLayer } from "../../cloud/identity/identity-registry.ts";
import { phoneHasher } from "../../cloud/identity/phone-hash.ts";
import { followRegistry, type RegistryFollower } from "../../cloud/shards/registry-follower.ts";
import type { ShardSet } from "../../cloud/shards/shard-set.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { testRegionIdentityKey, testRegionKeys } from "../support/test-region-keys.ts";
import { sealSignature, type CaptureSeal } from "../../protocol/template-seal.ts";
import { DeviceDirectory } from "../../cloud/storage/sqlite/device-directory.ts";
import { RegionDatabase, regionDatabaseLayer } from "../../cloud/storage/sqlite/region-database.ts";
import { SqliteIdentityStorageLive } from "../../cloud/storage/sqlite/sqlite-identity-storage.ts";

export const tempDir = (prefix = "palmline-test-") => mkdtempSync(join(tmpdir(), prefix));

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const GRID = 32;
const ORIENTATIONS = 12;
const CELLS = GRID * GRID;

interface PalmCode {
  readonly winners: Uint8Array[];
  readonly valid: Uint8Array[];
}

const randomCode = (random: () => number): PalmCode => ({
  winners: [0, 1].map(() => Uint8Array.from({ length: CELLS }, () => Math.floor(random() * ORIENTATIONS))),
  valid: [0, 1].map(() => Uint8Array.from({ length: CELLS }, () => (random() < 0.85 ? 1 : 0))),
});

const captureOf = (code: PalmCode, random: () => number, noise: number): PalmTemplate =>
  palmTemplateFromCells(
    { grid: GRID, orientations: ORIENTATIONS, scales: 1, channels: ["surface", "veins"] },
    [0, 1].map((c) => {
      const winners = code.winners[c]!.map((k) => {
        const r = random();
        if (r < noise * 0.2) return Math.floor(random() * ORIENTATIONS);
        if (r < noise) return (k + (random() < 0.5 ? 1 : ORIENTATIONS - 1)) % ORIENTATIONS;
        return k;
      });
      const valid = code.valid[c]!.map((v) => (random() < noise * 0.3 ? 1 - v : v));
      return { winners, valid };
    }),
  );

/** Captures of one synthetic palm: `syntheticPalm(seed)(capture)` is a probe of one variant. */
export const syntheticPalm = (identitySeed: number) => {
  const code = randomCode(seededRandom(identitySeed));
  return (captureSeed: number, noise = 0.15): PalmProbe => [captureOf(code, seededRandom(identitySeed * 7_919 + captureSeed), noise)];
};

/** Probes sealed for one request on a link: one fresh challenge of its session seals them all. */
export const sealForRequest = async (link: { captureSeal(): Promise<CaptureSeal> }, ...probes: PalmProbe[]): Promise<Uint8Array[]> => {
  const to = await link.captureSeal();
  return Promise.all(probes.map((p) => sealSignature(p, to)));
};

/** One probe sealed for one request on a link. */
export const sealForOneRequest = async (link: { captureSeal(): Promise<CaptureSeal> }, probe: PalmProbe): Promise<Uint8Array> =>
  (await sealForRequest(link, probe))[0]!;

/** The template of one capture of a synthetic palm (what a registry stores). */
export const syntheticTemplate = (identitySeed: number, captureSeed = 0): PalmTemplate => syntheticPalm(identitySeed)(captureSeed)[0]!;

/**
 * A palm that shares a share of its cells with another's (the rest its own): a look-alike whose
 * score against the other lands between a stranger's and a genuine capture's.
 */
export const lookAlikePalm = (identitySeed: number, like: number, share: number) => {
  const own = randomCode(seededRandom(identitySeed));
  const other = randomCode(seededRandom(like));
  const pick = seededRandom(identitySeed * 31 + like);
  const code: PalmCode = {
    winners: [0, 1].map((c) => own.winners[c]!.map((k, i) => (pick() < share ? other.winners[c]![i]! : k))),
    valid: [0, 1].map((c) => other.valid[c]!.slice()),
  };
  return (captureSeed: number, noise = 0.15): PalmProbe => [captureOf(code, seededRandom(identitySeed * 7_919 + captureSeed), noise)];
};

/** The storage key test registries use: fixed, so a registry reopened on its directory reads its records. */
export const TEST_STORAGE_KEY = new Uint8Array(32).fill(7);

/**
 * The region's registry on a data directory, built from the node's own layers (SQLite database,
 * SQLite identity storage, the registry) with a fixed storage key: `db` is the region database
 * for assertions on what rests on disk, `follow` keeps shards following the registry's change
 * stream (what a PalmIdentifier's `index` is), `close` ends the following and closes the database.
 */
export const openTestRegistry = async (dataDir = tempDir(), now = () => 1_000, regionId = "test") => {
  const sodium = await loadSodium();
  const layer = identityRegistryLayer({
    regionId,
    vault: new IdentityVault(sodium, TEST_STORAGE_KEY),
    sodium,
    identityKey: testRegionIdentityKey(sodium, regionId),
    regionKeys: testRegionKeys(sodium),
    hlc: new HybridLogicalClock(regionId, now),
    phoneHash: phoneHasher(TEST_STORAGE_KEY),
  }).pipe(Layer.provideMerge(SqliteIdentityStorageLive), Layer.provideMerge(regionDatabaseLayer(dataDir)));
  const runtime = ManagedRuntime.make(layer);
  const { registry, db } = await runtime.runPromise(
    Effect.gen(function* () {
      return { registry: yield* IdentityRegistry, db: (yield* RegionDatabase).db };
    }),
  );
  const scope = Effect.runSync(Scope.make());
  return {
    db,
    registry,
    devices: new DeviceDirectory(db),
    dataDir,
    follow: (shards: Pick<ShardSet, "add" | "remove">, snapshot?: () => Promise<void>): Promise<RegistryFollower> =>
      Effect.runPromise(followRegistry(registry, shards, () => {}, snapshot).pipe(Effect.provideService(Scope.Scope, scope))),
    close: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void));
      await runtime.dispose();
    },
  };
};
