// `palmline store` as a real process writing into a pipe: one plain line per decision, then the
// totals; no terminal control codes.
import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { cliEntry, repoRoot } from "../support/region-process.ts";

test("palmline store --once in a pipe prints one line per decision, then the totals", () => {
  const r = spawnSync(process.execPath, [cliEntry, "store", "--devices", "2", "--people", "2", "--shoppers", "2", "--once"], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).not.toContain("\x1b");
  const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
  const decisions = lines.filter((l) => /^ {2}(ok {2}|WRONG) \| /.test(l));
  // Two enrollments at the kiosk, then two shoppers at each of two lanes.
  expect(decisions).toHaveLength(2 + 2 * 2);
  expect(decisions.filter((l) => l.includes("kiosk-1"))).toHaveLength(2);
  expect(decisions.filter((l) => l.includes("lane-1"))).toHaveLength(2);
  expect(lines.at(-1)).toMatch(/^6 of 6 decisions right; p50 \d+ ms, p99 \d+ ms/);
}, 120_000);
