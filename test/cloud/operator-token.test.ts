// The operator API is never open (issue #15, finding 3): a node given no token makes its own in
// the data directory (0600, never overwritten) and refuses every /api call without it; a token is
// never taken from the command line, and a token file another user could read is refused.
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { OPERATOR_TOKEN_FILE, startRegionNode } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import { cliEntry, repoRoot, startRegionProcess } from "../support/region-process.ts";
import { tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const startNode = async (dataDir: string) => {
  const node = await startRegionNode({ regionId: "t", dataDir, host: "127.0.0.1", port: 0, shardCount: 1, clock: systemClock, log: () => {} });
  cleanups.push(() => node.close());
  return node;
};

const replicationStatus = (httpUrl: string, token?: string) =>
  fetch(`${httpUrl}/api/replication`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

/** `palmline cloud ...` run to its exit, with no token in its environment. */
const palmlineCloud = (...args: string[]) => {
  const env = { ...process.env };
  delete env.PALMLINE_OPERATOR_TOKEN;
  return spawnSync(process.execPath, [cliEntry, "cloud", ...args], { cwd: repoRoot, encoding: "utf8", env, timeout: 30_000 });
};

test("a node given no token keeps its own in the data directory, mode 0600, and refuses /api calls without it", async () => {
  const dataDir = tempDir();
  const node = await startNode(dataDir);
  const file = join(dataDir, OPERATOR_TOKEN_FILE);
  expect(node.operatorTokenFile).toBe(file);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, "utf8").trim()).toBe(node.operatorToken);
  expect(await replicationStatus(node.httpUrl)).toBe(401);
  expect(await replicationStatus(node.httpUrl, "guessed-token-guessed-token")).toBe(401);
  expect(await replicationStatus(node.httpUrl, node.operatorToken)).toBe(200);
});

test("a restarted node keeps the token it made: the file is never overwritten", async () => {
  const dataDir = tempDir();
  const first = await startNode(dataDir);
  const token = first.operatorToken;
  await cleanups.pop()!();
  expect((await startNode(dataDir)).operatorToken).toBe(token);
});

test("a node whose token file another user could read does not start", async () => {
  const dataDir = tempDir();
  await startNode(dataDir);
  await cleanups.pop()!();
  chmodSync(join(dataDir, OPERATOR_TOKEN_FILE), 0o644);
  await expect(startNode(dataDir)).rejects.toThrow(/lets other users read it/);
});

test("palmline cloud with no token option refuses unauthenticated /api calls, and its listening line names the token file, not the token", async () => {
  const dataDir = tempDir();
  const env = process.env.PALMLINE_OPERATOR_TOKEN;
  delete process.env.PALMLINE_OPERATOR_TOKEN;
  const region = await startRegionProcess(dataDir);
  if (env !== undefined) process.env.PALMLINE_OPERATOR_TOKEN = env;
  cleanups.push(async () => {
    region.child.kill("SIGTERM");
    await region.exited;
  });
  const listening = JSON.parse(region.output.find((l) => l.includes('"event":"listening"'))!) as { operatorTokenFile?: string };
  expect(listening.operatorTokenFile).toBe(join(dataDir, OPERATOR_TOKEN_FILE));
  expect(statSync(listening.operatorTokenFile!).mode & 0o777).toBe(0o600);
  expect(region.output.join("\n")).not.toContain(region.operatorToken);
  expect(await replicationStatus(region.httpUrl)).toBe(401);
  expect(await replicationStatus(region.httpUrl, region.operatorToken)).toBe(200);
}, 60_000);

test("palmline cloud refuses a token on its command line with a one-line reason", () => {
  const run = palmlineCloud("--data", tempDir(), "--operator-token", "operator-secret-on-argv");
  expect(run.status).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr.trimEnd().split("\n")).toEqual([
    expect.stringContaining("--operator-token is refused: a token on the command line is visible to every user"),
  ]);
});

test("palmline cloud refuses an operator token file other users can read", () => {
  const file = join(tempDir(), "token");
  writeFileSync(file, "operator-secret-in-a-file\n", { mode: 0o644 });
  chmodSync(file, 0o644);
  const run = palmlineCloud("--data", tempDir(), "--operator-token-file", file);
  expect(run.status).toBe(2);
  expect(run.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining(`${file} refused: its mode 0644 lets other users read it`)]);
});
