// Real building blocks for cloud tests: a registry in a temporary directory with real SQLite,
// real libsodium at-rest encryption, and synthetic signatures clustered like a model's output
// (each identity a random direction, each capture a small perturbation of it).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import { SIGNATURE_DIMENSION, toPalmSignature, type PalmSignature } from "../../core/palm-signature.ts";
import { DeviceDirectory } from "../../cloud/registry/device-directory.ts";
import { IdentityRegistry } from "../../cloud/registry/identity-registry.ts";
import { openRegistryDatabase } from "../../cloud/registry/registry-database.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { sodiumReady } from "../../cloud/storage/sodium.ts";

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

const gaussian = (random: () => number) => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());

export const syntheticPalm = (identitySeed: number) => {
  const r = seededRandom(identitySeed);
  const center = Array.from({ length: SIGNATURE_DIMENSION }, () => gaussian(r));
  return (captureSeed: number, noise = 0.25): PalmSignature => {
    const c = seededRandom(identitySeed * 7_919 + captureSeed);
    return toPalmSignature(center.map((v) => v + noise * gaussian(c)));
  };
};

export const openTestRegistry = async (dataDir = tempDir(), now = () => 1_000) => {
  const sodium = await sodiumReady;
  const db = openRegistryDatabase(dataDir);
  const storageKey = new Uint8Array(32).fill(7);
  const registry = new IdentityRegistry({ db, vault: new IdentityVault(sodium, storageKey), hlc: new HybridLogicalClock("test", now), regionId: "test" });
  return { db, registry, devices: new DeviceDirectory(db), dataDir };
};
