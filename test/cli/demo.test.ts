// The demo `npm start` runs, as a real process: the scripted run (identification, then card
// enrollment, checkout first- and third-party, a gate and a deletion, then a person enrolled in
// one region paying in another and deleted from both) is all right, and Ctrl-C on the continuous
// run shuts everything down cleanly.
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { expect, test } from "vitest";
import { cliEntry, repoRoot } from "../support/region-process.ts";

test("the scripted demo enrolls, identifies and rejects strangers, all correctly", () => {
  const run = spawnSync(process.execPath, [cliEntry, "demo", "--once", "--people", "5", "--strangers", "3"], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.stdout.match(/ok {3}\| person \d+ +[\d.]+ ms +enrolled as id_/g)).toHaveLength(5);
  expect(run.stdout).toMatch(/ok {3}\| person 1 again .*already enrolled/);
  expect(run.stdout.match(/ok {3}\| person \d+ +[\d.]+ ms +identified person \d+/g)).toHaveLength(5);
  expect(run.stdout.match(/ok {3}\| stranger \d+ +[\d.]+ ms +not identified/g)).toHaveLength(3);
  // Card enrollment, first- and third-party checkout, a gate and a deletion request, on the same node.
  expect(run.stdout.match(/ok {3}\| (Ada|Bo) +[\d.]+ ms +Enrolled: pay with your palm/g)).toHaveLength(2);
  expect(run.stdout).toMatch(/ok {3}\| Ada +[\d.]+ ms +Approved 12\.99 EUR VISA \*{4}4242, loyalty LOY-ADA-501/);
  expect(run.stdout).toMatch(/ok {3}\| Bo +[\d.]+ ms +Declined: card_declined/);
  // A fogged scanner window puts Ada's palm in the grey zone: the lane asks for her phone's last 4 digits.
  expect(run.stdout).toMatch(/ok {3}\| Ada +[\d.]+ ms +after her phone's last 4 digits: Approved 4\.20 EUR/);
  expect(run.stdout).toMatch(/ok {3}\| Ada +[\d.]+ ms +Palm accepted/);
  expect(run.stdout).toMatch(/ok {3}\| cafe redeems .*approved/);
  expect(run.stdout).toMatch(/ok {3}\| Ada +[\d.]+ ms +Welcome: Cup final/);
  expect(run.stdout).toMatch(/ok {3}\| Bo +[\d.]+ ms +Entry denied/);
  expect(run.stdout).toMatch(/ok {3}\| Ada +[\d.]+ ms +Your palm identity has been deleted/);
  expect(run.stdout).toMatch(/ok {3}\| Ada again +[\d.]+ ms +Palm not recognised/);
  // Two federated regions: enrolled in west, pays in east, deleted in east, unknown in both.
  expect(run.stdout).toMatch(/ok {3}\| Cem at west +[\d.]+ ms +Enrolled: pay with your palm/);
  expect(run.stdout).toMatch(/ok {3}\| Cem at east +[\d.]+ ms +Approved 7\.25 EUR/);
  expect(run.stdout).toMatch(/ok {3}\| Cem at east +[\d.]+ ms +Your palm identity has been deleted/);
  expect(run.stdout).toMatch(/ok {3}\| Cem at east +[\d.]+ ms +Palm not recognised/);
  expect(run.stdout).toMatch(/ok {3}\| Cem at west +[\d.]+ ms +Palm not recognised/);
  expect(run.stdout).toMatch(/sync {3}\| regions "west" and "east" hold the same registry after \d+ ms/);
  expect(run.stdout).toContain("30 of 30 decisions right");
}, 150_000);

test("Ctrl-C stops the running demo cleanly with exit code 0", async () => {
  const child = spawn(process.execPath, [cliEntry, "demo", "--people", "2", "--strangers", "1", "--interval-ms", "200"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exited = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  child.stderr.on("data", (d: Buffer) => lines.push(`stderr: ${d.toString()}`));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      if (line.includes("Ctrl-C stops everything")) resolve();
    });
    void exited.then(() => reject(new Error(`demo exited early:\n${lines.join("\n")}`)));
  });
  child.kill("SIGINT");
  const code = await exited;
  expect(code, lines.join("\n")).toBe(0);
  expect(lines.join("\n")).toContain("stopping: closing sessions, region node and database");
}, 150_000);
