// The data directory holds the registry, the index snapshots (every live identity's vector,
// labelled with its id, sealed) and the region's keys: nobody but the region's own user may read
// any of it, whatever the directory's mode was when the operator created it, and keys another user
// could have read are refused rather than used.
import { chmodSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startRegionNode } from "../../cloud/region-node.ts";
import { KeyringUnreadable } from "../../cloud/storage/region-keyring.ts";
import { systemClock } from "../../core/clock.ts";

const modeOf = (path: string) => statSync(path).mode & 0o777;

const runNodeOnce = async (dataDir: string) => {
  const node = await startRegionNode({ regionId: "modes", dataDir, host: "127.0.0.1", port: 0, shardCount: 2, clock: systemClock, log: () => {} });
  await node.close(); // writes the final index snapshot
};

describe("data directory modes", () => {
  test("the data directory, registry, index snapshot and keys are the region user's alone, even in a directory created open", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "palmline-modes-"));
    chmodSync(dataDir, 0o755);
    await runNodeOnce(dataDir);
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(join(dataDir, "registry.sqlite"))).toBe(0o600);
    expect(modeOf(join(dataDir, "keys"))).toBe(0o700);
    expect(modeOf(join(dataDir, "keys", "region-keys.json"))).toBe(0o600);
    expect(modeOf(join(dataDir, "keys", "data-keys.sqlite"))).toBe(0o600);
    expect(modeOf(join(dataDir, "index"))).toBe(0o700);
    const snapshot = readdirSync(join(dataDir, "index"));
    expect(snapshot.some((name) => name.endsWith(".sealed"))).toBe(true);
    expect(snapshot.some((name) => name.endsWith(".key"))).toBe(true);
    for (const name of snapshot) expect([name, modeOf(join(dataDir, "index", name))]).toEqual([name, 0o600]);
  }, 60_000);

  test("a region key file other users could read is refused at start", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "palmline-modes-"));
    await runNodeOnce(dataDir);
    chmodSync(join(dataDir, "keys", "region-keys.json"), 0o644);
    const started = startRegionNode({ regionId: "modes", dataDir, host: "127.0.0.1", port: 0, shardCount: 2, clock: systemClock, log: () => {} });
    await expect(started).rejects.toBeInstanceOf(KeyringUnreadable);
    await expect(started).rejects.toThrow(/mode 0644 lets other users read it \(chmod 600/);
  }, 60_000);

  test("a data-key file other users could read is refused at start", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "palmline-modes-"));
    await runNodeOnce(dataDir);
    chmodSync(join(dataDir, "keys", "data-keys.sqlite"), 0o640);
    const started = startRegionNode({ regionId: "modes", dataDir, host: "127.0.0.1", port: 0, shardCount: 2, clock: systemClock, log: () => {} });
    await expect(started).rejects.toBeInstanceOf(KeyringUnreadable);
    await expect(started).rejects.toThrow(/data-keys\.sqlite .*mode 0640 lets other users read it/);
  }, 60_000);
});
