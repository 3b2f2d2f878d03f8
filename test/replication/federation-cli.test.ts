// The federation list as an operator keeps it from the command line: `palmline federation
// add|remove|list` editing one file, `palmline cloud --federation FILE` refusing a list it could
// not trust before anything starts, and a running node following an edit on SIGHUP.
import { spawnSync } from "node:child_process";
import { chmodSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { federationMember, loadFederationMembers, saveFederationMembers } from "../../cloud/replication/federation-members.ts";
import { tempDir } from "../cloud/fixtures.ts";
import { systemClock } from "../../core/clock.ts";
import { CloseCode, decodeMessage, encodeMessage, FrameKind, generateIdentityKeyPair } from "../../protocol/index.ts";
import { handshakeByHand, nextFrame } from "../protocol/loopback.ts";
import { cliEntry, repoRoot, startRegionProcess } from "../support/region-process.ts";

const palmline = (...args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { cwd: repoRoot, encoding: "utf8", timeout: 20_000 });

const expectOneLineRefusal = (run: ReturnType<typeof palmline>, text: RegExp) => {
  expect(run.status).toBe(2);
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.stderr).toMatch(text);
};

const KEY_EU = Buffer.alloc(32, 1).toString("base64");
const KEY_US = Buffer.alloc(32, 2).toString("base64");

/** A list written straight to a file, as `add` would leave it. */
const listOf = (keys: Record<string, string>) => {
  const file = join(tempDir(), "federation.json");
  saveFederationMembers(file, new Map(Object.entries(keys).map(([regionId, key]) => [regionId, federationMember(regionId, key)])));
  return file;
};

describe("palmline federation", () => {
  test("add writes a list others can read but not change, naming each region's key and URL", () => {
    const file = join(tempDir(), "federation.json");
    expect(palmline("federation", "add", "--file", file, "--region", "eu", "--key", KEY_EU, "--url", "ws://eu.example:7400").status).toBe(0);
    expect(palmline("federation", "add", "--file", file, "--region", "us", "--key", KEY_US).status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const members = loadFederationMembers(file);
    expect([...members.keys()]).toEqual(["eu", "us"]);
    expect(members.get("eu")).toEqual({ regionId: "eu", identityPublicKey: new Uint8Array(Buffer.alloc(32, 1)), url: "ws://eu.example:7400" });
    expect(palmline("federation", "list", "--file", file).stdout).toBe(`eu\t${KEY_EU}\tws://eu.example:7400\nus\t${KEY_US}\t-\n`);
  });

  test("remove takes a region off the list", () => {
    const file = listOf({ eu: KEY_EU, us: KEY_US });
    expect(palmline("federation", "remove", "--file", file, "--region", "eu").status).toBe(0);
    expect([...loadFederationMembers(file).keys()]).toEqual(["us"]);
  });

  test("adding a region listed already is refused: its key changes only by remove and add", () => {
    const file = listOf({ eu: KEY_EU });
    expectOneLineRefusal(palmline("federation", "add", "--file", file, "--region", "eu", "--key", KEY_US), /listed already/);
    expect(loadFederationMembers(file).get("eu")?.identityPublicKey).toEqual(new Uint8Array(Buffer.alloc(32, 1)));
  });

  test("a key that is not 32 bytes of base64 is refused with one line", () => {
    expectOneLineRefusal(palmline("federation", "add", "--file", join(tempDir(), "f.json"), "--region", "eu", "--key", "c2hvcnQ="), /not 32 bytes of base64/);
  });

  test("--help describes add, remove and list", () => {
    const run = palmline("federation", "--help");
    expect(run.status).toBe(0);
    for (const command of ["add", "remove", "list"]) expect(run.stdout).toContain(command);
    expect(palmline("federation", "add", "--help").stdout).toContain("--key");
  });
});

describe("palmline cloud --federation", () => {
  test("a list others could change is refused with one line", () => {
    const file = join(tempDir(), "federation.json");
    writeFileSync(file, JSON.stringify({ regions: { eu: { identityPublicKey: KEY_EU } } }));
    chmodSync(file, 0o666);
    expectOneLineRefusal(palmline("cloud", "--federation", file), /lets others change it/);
  });

  test("a list that does not parse is refused with one line", () => {
    const file = join(tempDir(), "federation.json");
    writeFileSync(file, JSON.stringify({ regions: { eu: { identityPublicKey: KEY_EU, url: "http://eu" } } }));
    chmodSync(file, 0o644);
    expectOneLineRefusal(palmline("cloud", "--federation", file), /url must be a region's ws:\/\/ or wss:\/\/ URL/);
  });

  test("--help describes --federation and SIGHUP", () => {
    const run = palmline("cloud", "--help");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("--federation");
    expect(run.stdout).toContain("SIGHUP");
  });
});

describe("a running palmline cloud", () => {
  test("closes a peer's live link once the operator removes it from the list and sends SIGHUP", async () => {
    const peer = await generateIdentityKeyPair();
    const file = listOf({ r: Buffer.from(peer.publicKey).toString("base64") });
    const node = await startRegionProcess(tempDir(), ["--region", "b", "--federation", file]);
    try {
      const raw = await handshakeByHand(`${node.url}/replication`, peer, node.identityPublicKey, systemClock);
      raw.socket.send(raw.sealer.seal(FrameKind.Data, encodeMessage({ type: "replication.hello", regionId: "r", appliedSeq: 0 })));
      expect(decodeMessage(raw.opener.open(await nextFrame(raw, 2)).plaintext)).toMatchObject({ type: "replication.hello", regionId: "b" });
      expect(palmline("federation", "remove", "--file", file, "--region", "r").status).toBe(0);
      node.child.kill("SIGHUP");
      expect((await raw.closed).code).toBe(CloseCode.NotFederationMember);
    } finally {
      node.child.kill("SIGTERM");
      await node.exited;
    }
  }, 60_000);
});
