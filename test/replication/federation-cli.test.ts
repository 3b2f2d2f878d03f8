// The federation as an operator sets it up from the command line: a key file made once and
// copied to every region, and `palmline cloud` refusing peers it could not prove membership to.
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadFederationKey } from "../../cloud/replication/federation-key.ts";
import { tempDir } from "../cloud/fixtures.ts";
import { cliEntry, repoRoot } from "../support/region-process.ts";

const palmline = (...args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { cwd: repoRoot, encoding: "utf8", timeout: 20_000 });

const expectOneLineRefusal = (run: ReturnType<typeof palmline>, text: RegExp) => {
  expect(run.status).toBe(2);
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.stderr).toMatch(text);
};

describe("palmline federation-key", () => {
  test("creates a key file only its owner can read, holding 32 random bytes", () => {
    const file = join(tempDir(), "federation.key");
    const run = palmline("federation-key", "--out", file);
    expect(run.status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadFederationKey(file).byteLength).toBe(32);
  });

  test("refuses to overwrite an existing file and leaves it as it was", () => {
    const file = join(tempDir(), "federation.key");
    expect(palmline("federation-key", "--out", file).status).toBe(0);
    const before = readFileSync(file, "utf8");
    expectOneLineRefusal(palmline("federation-key", "--out", file), /already exists; refusing to overwrite/);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  test("without --out exits 2 with one line", () => {
    expectOneLineRefusal(palmline("federation-key"), /--out FILE is required/);
  });
});

describe("palmline cloud with peers", () => {
  test("--peer without --federation-key exits 2 with one line", () => {
    expectOneLineRefusal(palmline("cloud", "--peer", "ws://127.0.0.1:7401"), /--peer needs --federation-key FILE/);
  });

  test("a --peer that is not a ws:// URL exits 2 with one line", () => {
    const file = join(tempDir(), "federation.key");
    expect(palmline("federation-key", "--out", file).status).toBe(0);
    expectOneLineRefusal(palmline("cloud", "--federation-key", file, "--peer", "x"), /--peer must be a region's ws:\/\/ or wss:\/\/ URL/);
  });

  test("a key file others can read is refused with one line", () => {
    const file = join(tempDir(), "federation.key");
    writeFileSync(file, `${Buffer.alloc(32, 1).toString("base64")}\n`);
    chmodSync(file, 0o644);
    expectOneLineRefusal(palmline("cloud", "--federation-key", file, "--peer", "ws://127.0.0.1:7401"), /lets others read it/);
  });

  test("--help describes --peer and --federation-key", () => {
    const run = palmline("cloud", "--help");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("--peer");
    expect(run.stdout).toContain("--federation-key");
  });
});
