// kill -9 at random moments of enrollment (and of snapshot writing, which runs every few
// enrollments here) must never leave the index and the registry disagreeing after a restart; a
// removal confirmed just before a kill -9 is in no file under the data directory after it.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Effect } from "effect";
import { describe, expect, test } from "vitest";
import type { IdentityId } from "../../core/ids.ts";
import { PALM_VECTOR_DIMENSION, palmIndexVector } from "../../core/palm-template-vector.ts";
import { PalmIdentifier } from "../../cloud/identification/palm-identifier.ts";
import { openRegionShards } from "../../cloud/shards/region-shards.ts";
import { readSealedShard } from "../../cloud/shards/sealed-shard-file.ts";
import { IndexSnapshots } from "../../cloud/shards/shard-snapshot.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { repoRoot } from "../support/region-process.ts";
import { openTestRegistry, seededRandom, syntheticPalm, syntheticTemplate, TEST_STORAGE_KEY, tempDir } from "./fixtures.ts";

const ROUNDS = 12;

/**
 * Runs the enrolling child until it has acknowledged `enrollments` enrollments, then kills it -9
 * `afterMs` later: somewhere inside the next enrollment or snapshot. Counting acknowledgements
 * rather than milliseconds from the start keeps the test's coverage (enough enrollments, enough
 * snapshots) the same on a loaded machine, where one enrollment can take longer than `afterMs`.
 */
const enrollUntilKilled = (dataDir: string, seed: number, enrollments: number, afterMs: number) =>
  new Promise<{ acknowledged: { id: IdentityId; seed: number }[] }>((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "test", "support", "enrolling-node.ts"), dataDir, String(seed), "4"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acknowledged: { id: IdentityId; seed: number }[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => {
      const [word, id, s] = line.split(" ");
      if (word === "enrolled") acknowledged.push({ id: id as IdentityId, seed: Number(s) });
      if (word === "enrolled" && acknowledged.length === enrollments) setTimeout(() => child.kill("SIGKILL"), afterMs);
    });
    child.once("exit", () => resolve({ acknowledged }));
  });

describe("index crash consistency", () => {
  test("after kill -9 at random points, the restarted index holds exactly the live registry", { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    const random = seededRandom(2026);
    const acknowledged: { id: IdentityId; seed: number }[] = [];
    let snapshotsLoaded = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const run = await enrollUntilKilled(dataDir, 1_000 * (round + 1), 1 + (round % 3), Math.floor(random() * 600));
      acknowledged.push(...run.acknowledged);

      const testRegistry = await openTestRegistry(dataDir);
      const { registry } = testRegistry;
      const hadSnapshot =
        new IndexSnapshots({ dir: join(dataDir, "index"), sodium: await loadSodium(), storageKey: TEST_STORAGE_KEY }).read().kind === "usable";
      const region = await openRegionShards({
        registry,
        dataDir,
        storageKey: TEST_STORAGE_KEY,
        shardCount: 2,
        dimension: PALM_VECTOR_DIMENSION,
        log: () => {},
      });
      try {
        // An index entry is only ever added after its registry commit, so a snapshot never holds one the registry lacks.
        expect(region.report.repairedExtra).toBe(0);
        if (hadSnapshot) {
          expect(region.report.source).toBe("snapshot");
          snapshotsLoaded++;
        }
        const live = Effect.runSync(registry.liveIdentityIds()).sort();
        expect((await region.shards.identityIds()).sort()).toEqual(live);
        for (const { id } of acknowledged) expect(live).toContain(id);
      } finally {
        await region.close();
        await testRegistry.close();
      }
    }
    expect(acknowledged.length).toBeGreaterThan(ROUNDS);
    expect(snapshotsLoaded).toBeGreaterThan(ROUNDS / 2);

    // Every acknowledged enrollment is found again by a fresh capture.
    const testRegistry = await openTestRegistry(dataDir);
    const { registry } = testRegistry;
    const region = await openRegionShards({ registry, dataDir, storageKey: TEST_STORAGE_KEY, shardCount: 2, dimension: PALM_VECTOR_DIMENSION, log: () => {} });
    try {
      const identifier = new PalmIdentifier({ registry, shards: region.shards, index: await testRegistry.follow(region.shards), now: () => 1_000 });
      for (const { id, seed } of acknowledged) expect(await identifier.identify(syntheticPalm(seed)(7))).toMatchObject({ outcome: "match", identityId: id });
    } finally {
      await region.close();
      await testRegistry.close();
    }
  });

  test("a removal confirmed just before kill -9 is in no file under the data directory after it", { timeout: 60_000 }, async () => {
    const dataDir = tempDir();
    const ids = Array.from({ length: 8 }, (_, i) => `id_${i + 1}` as IdentityId);
    const seeded = await openTestRegistry(dataDir);
    Effect.runSync(
      seeded.registry.enroll(
        ids.map((identityId, i) => ({ identityId, template: syntheticTemplate(i + 1) })),
        1_000,
      ),
    );
    const before = await openRegionShards({
      registry: seeded.registry,
      dataDir,
      storageKey: TEST_STORAGE_KEY,
      shardCount: 2,
      dimension: PALM_VECTOR_DIMENSION,
      log: () => {},
    });
    await before.close(); // a snapshot holding every palm
    await seeded.close();
    const deleted = ids[2]!;

    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [join(repoRoot, "test", "support", "deleting-node.ts"), dataDir, deleted], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      createInterface({ input: child.stdout }).on("line", (line) => {
        if (line === "erased") child.kill("SIGKILL");
      });
      child.once("exit", () => resolve());
    });

    const sodium = await loadSodium();
    const onDisk = new IndexSnapshots({ dir: join(dataDir, "index"), sodium, storageKey: TEST_STORAGE_KEY }).read();
    if (onDisk.kind !== "usable") throw new Error(`no usable snapshot after the kill: ${JSON.stringify(onDisk)}`);
    const held = onDisk.files.flatMap((file) => readSealedShard(sodium, file).identities);
    expect(held).not.toContain(deleted);
    expect(held).toContain(ids[3]);
    expect(readdirSync(join(dataDir, "index")).filter((name) => name.endsWith(".key"))).toHaveLength(1);
    const vector = Buffer.from(palmIndexVector(syntheticTemplate(3)).buffer);
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    for (const path of files(dataDir))
      expect([path, readFileSync(path).indexOf(vector.subarray(vector.length / 2, vector.length / 2 + 64))]).toEqual([path, -1]);

    const testRegistry = await openTestRegistry(dataDir);
    const region = await openRegionShards({
      registry: testRegistry.registry,
      dataDir,
      storageKey: TEST_STORAGE_KEY,
      shardCount: 2,
      dimension: PALM_VECTOR_DIMENSION,
      log: () => {},
    });
    try {
      expect(region.report.source).toBe("snapshot");
      expect(await region.shards.has(deleted)).toBe(false);
    } finally {
      await region.close();
      await testRegistry.close();
    }
  });
});
