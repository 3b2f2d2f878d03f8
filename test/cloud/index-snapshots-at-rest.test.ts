// Index snapshots hold every live identity's vector, labelled with its id: on disk they are sealed
// under a per-generation key the region's storage key wraps, a snapshot that does not open is
// refused and rebuilt from the registry, and a removal is erased from disk (the generation that
// held it replaced and destroyed) before anyone may confirm it.
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Effect } from "effect";
import { afterEach, describe, expect, test } from "vitest";
import type { IdentityId } from "../../core/ids.ts";
import { PALM_VECTOR_DIMENSION, palmIndexVector } from "../../core/palm-template-vector.ts";
import { openRegionShards, type RegionShards } from "../../cloud/shards/region-shards.ts";
import { readSealedShard } from "../../cloud/shards/sealed-shard-file.ts";
import { IndexSnapshots } from "../../cloud/shards/shard-snapshot.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { openTestRegistry, syntheticTemplate, TEST_STORAGE_KEY, tempDir } from "./fixtures.ts";

const sodium = await loadSodium();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A registry with `count` enrolled synthetic palms (seeds 1..count), and the region's shards over it, following it. */
const regionWith = async (count: number, dataDir = tempDir()) => {
  const testRegistry = await openTestRegistry(dataDir);
  cleanups.push(() => testRegistry.close());
  const ids: IdentityId[] = [];
  if (count > 0) {
    const enrollments = Array.from({ length: count }, (_, i) => ({ identityId: `id_${i + 1}` as IdentityId, template: syntheticTemplate(i + 1) }));
    Effect.runSync(testRegistry.registry.enroll(enrollments, 1_000));
    ids.push(...enrollments.map((e) => e.identityId));
  }
  const region = await open(testRegistry.registry, dataDir);
  const follower = await testRegistry.follow(region.shards, region.snapshot);
  return { ...testRegistry, region, follower, ids };
};

const open = async (registry: Parameters<typeof openRegionShards>[0]["registry"], dataDir: string, log: (line: string) => void = () => {}) => {
  const region = await openRegionShards({ registry, dataDir, storageKey: TEST_STORAGE_KEY, shardCount: 2, dimension: PALM_VECTOR_DIMENSION, log });
  cleanups.push(() => region.close());
  return region;
};

/** Closes a region (its final snapshot written) so the test can reopen the directory. */
const closed = async (region: RegionShards) => {
  await region.close();
  cleanups.splice(cleanups.length - 1, 1);
};

const snapshotsOf = (dataDir: string) => new IndexSnapshots({ dir: join(dataDir, "index"), sodium, storageKey: TEST_STORAGE_KEY });

/** Every identity the snapshot on disk holds, opened with the region's own keys. */
const identitiesOnDisk = (dataDir: string): (string | null)[] => {
  const onDisk = snapshotsOf(dataDir).read();
  if (onDisk.kind !== "usable") throw new Error(`no usable snapshot: ${JSON.stringify(onDisk)}`);
  return onDisk.files.flatMap((file) => readSealedShard(sodium, file).identities);
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

/** 64 bytes from the middle of a palm's index vector, as faiss stores it. */
const vectorBytes = (seed: number) => {
  const bytes = Buffer.from(palmIndexVector(syntheticTemplate(seed)).buffer);
  return bytes.subarray(bytes.length / 2, bytes.length / 2 + 64);
};

const indexFiles = (dataDir: string) => readdirSync(join(dataDir, "index"));

describe("index snapshots at rest", () => {
  test("no file under the data directory holds a template's vector, and no index file an identity id", async () => {
    const { region, dataDir, ids } = await regionWith(20);
    await region.snapshot();
    for (const path of filesUnder(dataDir)) {
      const bytes = readFileSync(path);
      for (const seed of [1, 7, 20]) expect([path, bytes.indexOf(vectorBytes(seed))]).toEqual([path, -1]);
      if (path.includes(`${join(dataDir, "index")}`)) for (const id of ids) expect([path, bytes.indexOf(Buffer.from(id))]).toEqual([path, -1]);
    }
    expect(
      identitiesOnDisk(dataDir)
        .filter((id) => id !== null)
        .sort(),
    ).toEqual([...ids].sort());
  });

  test("a snapshot written is loaded at the next start, with every identity", async () => {
    const { region, registry, dataDir, ids } = await regionWith(12);
    await closed(region);
    const reopened = await open(registry, dataDir);
    expect(reopened.report.source).toBe("snapshot");
    expect((await reopened.shards.identityIds()).sort()).toEqual([...ids].sort());
  });

  test("a tampered shard file is refused and the index rebuilt from the registry", async () => {
    const { region, registry, dataDir, ids } = await regionWith(12);
    await closed(region);
    const onDisk = snapshotsOf(dataDir).read();
    if (onDisk.kind !== "usable") throw new Error("no snapshot");
    const path = onDisk.files[0]!.path;
    const bytes = readFileSync(path);
    bytes[bytes.length - 30]! ^= 0x40;
    writeFileSync(path, bytes);
    const lines: string[] = [];
    const reopened = await open(registry, dataDir, (line) => lines.push(line));
    expect(reopened.report.source).toBe("rebuild");
    expect(lines.join("\n")).toMatch(/index snapshot unusable .*wrong key or tampered data.*rebuilding/);
    expect((await reopened.shards.identityIds()).sort()).toEqual([...ids].sort());
  });

  test("an edited manifest is refused and the index rebuilt from the registry", async () => {
    const { region, registry, dataDir, ids } = await regionWith(12);
    await closed(region);
    const manifestPath = join(dataDir, "index", "manifest.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { watermark: number };
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, watermark: manifest.watermark + 1_000 }));
    const lines: string[] = [];
    const reopened = await open(registry, dataDir, (line) => lines.push(line));
    expect(reopened.report.source).toBe("rebuild");
    expect(lines.join("\n")).toMatch(/index snapshot refused .*does not open for this manifest/);
    expect((await reopened.shards.identityIds()).sort()).toEqual([...ids].sort());
  });

  test("a snapshot key file other users could read is refused, and the rebuilt index is sealed under a new key", async () => {
    const { region, registry, dataDir } = await regionWith(6);
    await closed(region);
    const exposedKey = indexFiles(dataDir).find((name) => name.endsWith(".key"))!;
    chmodSync(join(dataDir, "index", exposedKey), 0o644);
    const lines: string[] = [];
    const reopened = await open(registry, dataDir, (line) => lines.push(line));
    expect(reopened.report.source).toBe("rebuild");
    expect(lines.join("\n")).toMatch(/index snapshot refused .*mode 0644 lets other users read it/);
    await reopened.snapshot();
    const keys = indexFiles(dataDir).filter((name) => name.endsWith(".key"));
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toBe(exposedKey);
    expect(statSync(join(dataDir, "index", keys[0]!)).mode & 0o777).toBe(0o600);
  });

  test("a removal is erased: once confirmed, the only snapshot left on disk no longer holds the identity", async () => {
    const { region, registry, follower, dataDir, ids } = await regionWith(10);
    await region.snapshot();
    const before = indexFiles(dataDir);
    const deleted = ids[3]!;
    const change = Effect.runSync(registry.tombstone(deleted, 2_000, "requested"));
    await follower.erased(change.seq);
    expect(identitiesOnDisk(dataDir)).not.toContain(deleted);
    expect(identitiesOnDisk(dataDir)).toContain(ids[4]);
    // The generation that held it is gone, its key first.
    const after = indexFiles(dataDir);
    for (const name of before.filter((n) => n !== "manifest.json")) expect(after).not.toContain(name);
    expect(after.filter((name) => name.endsWith(".key"))).toHaveLength(1);
  });

  test("removals confirmed together share one snapshot rather than writing one each", async () => {
    const { region, registry, follower, dataDir, ids } = await regionWith(10);
    await region.snapshot();
    const generationOf = () => {
      const onDisk = snapshotsOf(dataDir).read();
      return onDisk.kind === "usable" ? onDisk.manifest.generation : 0;
    };
    const first = generationOf();
    const changes = ids.slice(0, 6).map((id) => Effect.runSync(registry.tombstone(id, 2_000, "requested")));
    await Promise.all(changes.map((c) => follower.erased(c.seq)));
    expect(generationOf() - first).toBeLessThanOrEqual(2);
    expect(
      identitiesOnDisk(dataDir)
        .filter((id) => id !== null)
        .sort(),
    ).toEqual(ids.slice(6).sort());
  });

  test("clear snapshot files left from before snapshots were sealed are destroyed at the first sealed write", async () => {
    const dataDir = tempDir();
    const { region } = await regionWith(4, dataDir);
    await region.snapshot();
    const legacy = join(dataDir, "index", "shard-0.g9.faiss");
    writeFileSync(legacy, vectorBytes(1), { mode: 0o600 });
    writeFileSync(join(dataDir, "index", "shard-0.g9.labels.json"), "[]", { mode: 0o600 });
    await region.snapshot();
    expect(indexFiles(dataDir).filter((name) => name.endsWith(".faiss") || name.endsWith(".labels.json"))).toEqual([]);
  });

  // Earlier versions passed each index through a clear file beside the sealed one; a kill could leave it.
  test("a clear index file a kill left beside a sealed one is destroyed at the next start", async () => {
    const { region, registry, dataDir } = await regionWith(4);
    await closed(region);
    const sealed = indexFiles(dataDir).find((name) => name.endsWith(".sealed"))!;
    writeFileSync(join(dataDir, "index", `${sealed}.transient.faiss`), vectorBytes(1), { mode: 0o600 });
    const reopened = await open(registry, dataDir);
    expect(reopened.report.source).toBe("snapshot");
    expect(indexFiles(dataDir).filter((name) => name.endsWith(".faiss"))).toEqual([]);
  });
});
