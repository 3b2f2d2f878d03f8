// The palmline executable as a person uses it: help for every command, one-line reasons and a
// non-zero exit for bad input.
import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { cliEntry, repoRoot, startRegionProcess } from "../support/region-process.ts";
import { tempDir } from "../cloud/fixtures.ts";

const palmline = (...args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { cwd: repoRoot, encoding: "utf8", timeout: 20_000 });

describe("palmline command line", () => {
  test("--help lists every command", () => {
    const run = palmline("--help");
    expect(run.status).toBe(0);
    for (const command of ["demo", "cloud", "provision-code", "eval"]) expect(run.stdout).toContain(command);
  });

  test.each(["demo", "cloud", "provision-code"])("%s --help describes its options and exits 0", (command) => {
    const run = palmline(command, "--help");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`usage: palmline ${command}`);
  });

  test("an unknown command exits 2 with one line naming it", () => {
    const run = palmline("teleport");
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain('unknown command "teleport"');
  });

  test("an unknown option exits 2 with one line", () => {
    const run = palmline("cloud", "--colour", "blue");
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("--colour");
  });

  test("a port out of range exits 2 and says which values are allowed", () => {
    const run = palmline("cloud", "--port", "70000");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--port must be an integer from 0 to 65535/);
  });

  test("provision-code on a directory with no region says how to create one", () => {
    const run = palmline("provision-code", "--data", "/nonexistent/palmline");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no region data in \/nonexistent\/palmline/);
  });
});

test("cloud --inspector-port serves the inspector page on loopback and says where", async () => {
  const region = await startRegionProcess(tempDir(), ["--inspector-port", "0"]);
  try {
    const line = region.output.find((l) => l.includes('"event":"inspector"'));
    const { url } = JSON.parse(line!) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await fetch(url)).text()).toContain("palmline inspector — region local");
  } finally {
    region.child.kill("SIGTERM");
    await region.exited;
  }
}, 60_000);
