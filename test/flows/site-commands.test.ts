// `palmline store`, `gate` and `kiosk` as real processes: help, and a scripted run whose JSON
// summary says every decision was right.
import { spawn, spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { cliEntry, repoRoot } from "../support/region-process.ts";

const run = (args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { cwd: repoRoot, encoding: "utf8", timeout: 120_000 });

test.each(["store", "gate", "kiosk"])("%s --help describes its options and exits 0", (command) => {
  const r = run([command, "--help"]);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`usage: palmline ${command}`);
  expect(r.stdout).toContain("--once");
  expect(r.stdout).toContain("--json");
});

const runJson = (args: string[]) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => {
      try {
        const summary = JSON.parse(out.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
        resolve({ ...summary, exitCode: code, stderr: err });
      } catch {
        reject(new Error(`no JSON summary (exit ${code}):\n${out}\n${err}`));
      }
    });
  });

test("palmline store --devices 3 --once --json: enrollments and checkouts at three lanes, all right", async () => {
  const summary = await runJson(["store", "--devices", "3", "--people", "5", "--shoppers", "4", "--once", "--json"]);
  expect(summary).toMatchObject({ command: "store", lanes: 3, enrolled: 5, wrong: 0, exitCode: 0 });
  expect(summary.decisions).toBe(5 + 3 * 4);
}, 120_000);

test("palmline gate --devices 2 --once --json: tickets from the operator API open gates, expired ones do not", async () => {
  const summary = await runJson(["gate", "--devices", "2", "--once", "--json"]);
  expect(summary).toMatchObject({ command: "gate", gates: 2, wrong: 0, exitCode: 0 });
}, 120_000);

test("palmline kiosk --once --json: typos and a printed photo are refused, a returning palm is recognised", async () => {
  const summary = await runJson(["kiosk", "--once", "--json"]);
  expect(summary).toMatchObject({ command: "kiosk", wrong: 0, exitCode: 0, enrolled: 4 });
}, 120_000);
