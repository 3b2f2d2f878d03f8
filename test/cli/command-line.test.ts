// The command lines as a person uses them, through the real entry points in child processes:
// every command and subcommand of `palmline`, `npm run eval` and `npm run bench` prints its usage
// on --help and exits 0; a bad argument exits 2 with one line on stderr saying why, never a stack
// trace. The processes run a few at a time (test.concurrent, bounded by vitest's maxConcurrency).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { cliEntry, repoRoot, startRegionProcess } from "../support/region-process.ts";
import { tempDir } from "../cloud/fixtures.ts";

const benchEntry = join(repoRoot, "test", "bench", "main.ts");

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const run = (entry: string, args: readonly string[]): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });

const palmline = (...args: string[]) => run(cliEntry, args);
const bench = (...args: string[]) => run(benchEntry, args);

const expectOneLineRefusal = (result: Run, ...mentions: string[]) => {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/^\s+at /);
  for (const mention of mentions) expect(lines[0]).toContain(mention);
};

/** Every command a person can type, the entry point it lives behind, and how it is invoked. */
const commands: readonly { readonly invocation: string; readonly entry: (...args: string[]) => Promise<Run>; readonly args: readonly string[] }[] = [
  ...["demo", "cloud", "provision-code", "federation", "store", "gate", "kiosk", "eval"].map((name) => ({
    invocation: `palmline ${name}`,
    entry: palmline,
    args: [name],
  })),
  ...["protocol", "crypto", "checkout", "replication", "identify"].map((name) => ({ invocation: `npm run bench -- ${name}`, entry: bench, args: [name] })),
];

describe.concurrent("every command", () => {
  test.each(commands)("$invocation --help prints its usage on stdout and exits 0", async ({ invocation, entry, args }) => {
    const result = await entry(...args, "--help");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`usage: ${invocation}`);
    expect(result.stderr).toBe("");
  });

  test.each(commands)("$invocation with an unknown option exits 2 with one line naming it", async ({ invocation, entry, args }) => {
    expectOneLineRefusal(await entry(...args, "--no-such-option"), invocation, "unknown option --no-such-option", `see ${invocation} --help`);
  });
});

/** One of each kind of bad argument: a value out of range or not a number, a missing value, a stray word, a value on a flag, a rule between options. */
const badArguments: readonly { readonly entry: (...args: string[]) => Promise<Run>; readonly args: readonly string[]; readonly says: string }[] = [
  { entry: palmline, args: ["cloud", "--port", "70000"], says: "--port must be an integer from 0 to 65535" },
  { entry: palmline, args: ["cloud", "stray"], says: 'unexpected argument "stray"' },
  { entry: palmline, args: ["demo", "--once=yes"], says: "--once takes no value" },
  { entry: palmline, args: ["gate", "--visitors", "-3"], says: "--visitors needs a value" },
  { entry: palmline, args: ["kiosk", "--seed", "1.5"], says: "--seed must be an integer" },
  { entry: palmline, args: ["federation", "add"], says: "--file FILE is required" },
  { entry: palmline, args: ["eval"], says: "give exactly one of --dataset, --synthetic, --pad" },
  { entry: palmline, args: ["eval", "--synthetic", "10", "--channel", "infrared"], says: "--channel must be visible, nir or fused" },
  { entry: palmline, args: ["eval", "--synthetic", "10", "--sessions", "s1"], says: "--sessions needs --dataset" },
  { entry: palmline, args: ["eval", "--synthetic", "10", "--gallery", "5"], says: "--gallery needs --open-set" },
  { entry: palmline, args: ["eval", "--open-set", "--gallery", "0"], says: "--gallery must be an integer from 1 to" },
  { entry: bench, args: ["checkout", "--enrolled", "abc"], says: "--enrolled must be an integer" },
  { entry: bench, args: ["crypto", "--rounds", "0"], says: "--rounds must be an integer from 1 to 1000" },
  { entry: bench, args: ["identify", "--rendered", "0"], says: "--rendered must be an integer from 1 to 1000000" },
  {
    entry: bench,
    args: ["identify", "--enrolled", "10", "--queries", "8"],
    says: "--queries must leave at least 4 of the 10 rendered palms unqueried (mirrored palms are built from them)",
  },
];

const shown = badArguments.map((b) => ({ ...b, commandLine: [b.entry === palmline ? "palmline" : "npm run bench --", ...b.args].join(" ") }));

describe.concurrent("bad arguments", () => {
  test.each(shown)("$commandLine exits 2 with one line: $says", async ({ entry, args, says }) => {
    expectOneLineRefusal(await entry(...args), says);
  });
});

describe.concurrent("the entry points", () => {
  test("palmline --help lists every command", async () => {
    const result = await palmline("--help");
    expect(result.status).toBe(0);
    for (const command of ["demo", "cloud", "provision-code", "federation", "store", "gate", "kiosk", "eval"]) expect(result.stdout).toContain(`  ${command} `);
  });

  test("npm run bench -- --help lists every bench", async () => {
    const result = await bench("--help");
    expect(result.status).toBe(0);
    for (const name of ["protocol", "crypto", "checkout", "replication", "identify"]) expect(result.stdout).toContain(`  ${name} `);
  });

  test("-h is --help", async () => {
    const result = await palmline("eval", "-h");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("usage: palmline eval");
  });

  test("--help wins over a bad argument beside it", async () => {
    const result = await palmline("eval", "--synthetic", "many", "--help");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("usage: palmline eval");
  });

  test("an unknown palmline command exits 2 with one line naming it", async () => {
    expectOneLineRefusal(await palmline("teleport"), 'unknown command "teleport"', "see palmline --help");
  });

  test("palmline without a command exits 2 with one line", async () => {
    expectOneLineRefusal(await palmline(), "no command given");
  });

  test("an unknown bench exits 2 with one line naming it", async () => {
    expectOneLineRefusal(await bench("teleport"), 'unknown command "teleport"', "see npm run bench -- --help");
  });

  test("provision-code on a directory with no region says how to create one", async () => {
    expectOneLineRefusal(
      await palmline("provision-code", "--role", "service-point", "--data", "/nonexistent/palmline"),
      "no region data in /nonexistent/palmline",
    );
  });

  test("provision-code without a role, or a checkout without its merchant, says what to name", async () => {
    expectOneLineRefusal(
      await palmline("provision-code", "--data", "/nonexistent/palmline"),
      "name at least one role (checkout, gate, enrollment-kiosk, service-point)",
    );
    expectOneLineRefusal(await palmline("provision-code", "--role", "checkout"), "a checkout device needs its merchant");
  });
});

test("cloud --inspector-port serves the inspector page on loopback and says where, its token in the address's fragment", async () => {
  const region = await startRegionProcess(tempDir(), ["--inspector-port", "0"]);
  try {
    const line = region.output.find((l) => l.includes('"event":"inspector"'));
    const { url } = JSON.parse(line!) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/);
    expect(await (await fetch(url)).text()).toContain("palmline inspector — region local");
  } finally {
    region.child.kill("SIGTERM");
    await region.exited;
  }
}, 60_000);
