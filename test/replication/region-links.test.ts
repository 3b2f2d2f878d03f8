// Two real region nodes in this process (real SQLite, shards on workers, WebSockets on port 0),
// each on the other's federation list: what one region's scanners do is seen by the other's.
// Who may link at all: federation-membership.test.ts.
import { createServer } from "node:net";
import { join } from "node:path";
import { encode } from "@msgpack/msgpack";
import { Effect } from "effect";
import { afterEach, describe, expect, test } from "vitest";
import { startRegionNode, type RegionNodeSettings } from "../../cloud/region-node.ts";
import { BATCH_MAX_BYTES, REPAIR_MESSAGES_PER_ROUND } from "../../cloud/replication/peer-link.ts";
import { makeIdentityRegistry } from "../../cloud/identity/identity-registry.ts";
import { phoneHasher } from "../../cloud/identity/phone-hash.ts";
import { IdentityStorage } from "../../cloud/storage/identity-storage.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadOrCreateRegionKeyring } from "../../cloud/storage/region-keyring.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { openRegistryDatabase } from "../../cloud/storage/sqlite/registry-database.ts";
import { sqliteIdentityStorage } from "../../cloud/storage/sqlite/sqlite-identity-storage.ts";
import { systemClock } from "../../core/clock.ts";
import { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import { newIdentityId } from "../../core/ids.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { CloseCode, decodeMessage, encodeMessage, FrameKind, generateIdentityKeyPair } from "../../protocol/index.ts";
import { sealForOneRequest, sealForRequest, syntheticPalm, syntheticTemplate, tempDir } from "../cloud/fixtures.ts";
import { handshakeByHand, nextFrame } from "../protocol/loopback.ts";
import { federatedPair, regionKeyIn, writeFederationList, type ListedRegion } from "../support/federation-lists.ts";
import { waitUntil } from "../support/wait-until.ts";

type Node = Awaited<ReturnType<typeof startRegionNode>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const dataDirOf = new WeakMap<Node, string>();

const startRegion = async (regionId: string, extra: Partial<RegionNodeSettings> = {}, logs: string[] = []) => {
  const dataDir = extra.dataDir ?? tempDir(`palmline-${regionId}-`);
  const node = await startRegionNode({
    regionId,
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock: systemClock,
    log: (line) => logs.push(line),
    antiEntropyEveryMs: 600_000,
    ...extra,
    dataDir,
  });
  cleanups.push(() => node.close());
  dataDirOf.set(node, dataDir);
  return node;
};

/** A provisioned scanner's link to a region. */
const scanner = async (node: Node) => {
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: "lane" });
  const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode({ roles: ["enrollment-kiosk", "service-point"] }) });
  cleanups.push(() => link.close());
  const palm = (seed: number, capture: number) => sealForOneRequest(link, syntheticPalm(seed)(capture));
  return {
    link,
    enroll: async (seed: number) => {
      const result = await link.enroll(await sealForRequest(link, ...[0, 1, 2].map((c) => syntheticPalm(seed)(c))));
      if (result.outcome !== "enrolled") throw new Error(`enrollment failed: ${result.outcome}`);
      return result.identityId!;
    },
    identify: async (seed: number) => {
      const result = await link.identify(await palm(seed, 9));
      return result.outcome === "match" ? result.identityId : undefined;
    },
    deletePalm: async (seed: number) => (await link.requestDeletion(await palm(seed, 8))).outcome,
  };
};

const linked = (from: Node, peer: string) => waitUntil(() => from.replication.status().peers.some((p) => p.regionId === peer && p.connected) || undefined);

/** B listening, A dialling it: one link, both directions. */
const linkedPair = async () => {
  const pair = await federatedPair("b", "a");
  const b = await startRegion("b", pair.listener);
  const a = await startRegion("a", pair.dialler(b.url));
  await linked(a, "b");
  await linked(b, "a");
  return { a, b };
};

/** A region whose federation list names these regions. */
const listing = (regions: readonly ListedRegion[]) => ({
  federationMembersFile: writeFederationList(join(tempDir("palmline-list-"), "federation.json"), regions),
});

describe("replication between two regions", () => {
  test("an identity enrolled in A becomes identifiable in B", async () => {
    const { a, b } = await linkedPair();
    const identityId = await (await scanner(a)).enroll(11);
    const atB = await scanner(b);
    expect(await waitUntil(() => atB.identify(11))).toBe(identityId);
    // Identifying raised last-seen in B, which flows back to A: then both hold the same registry.
    await waitUntil(() => b.replication.status().digest === a.replication.status().digest || undefined);
  });

  test("a deletion in B makes the identity unidentifiable in A within a second", async () => {
    const { a, b } = await linkedPair();
    const atA = await scanner(a);
    const identityId = await atA.enroll(12);
    const atB = await scanner(b);
    await waitUntil(() => atB.identify(12));
    expect(await atB.deletePalm(12)).toBe("deleted");
    const started = Date.now();
    await waitUntil(async () => ((await atA.identify(12)) === undefined ? true : undefined), 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await atA.identify(12)).toBeUndefined();
    expect(a.replication.status()).toMatchObject({ live: 0, tombstones: 1 });
    expect(identityId).toMatch(/^id_/);
  });

  test("GET /api/replication and /metrics report the link, its lag and what was applied", async () => {
    const { a, b } = await linkedPair();
    await (await scanner(a)).enroll(13);
    await waitUntil(() => b.replication.status().live === 1 || undefined);
    await waitUntil(() => a.replication.status().peers[0]?.lagMs === 0 || undefined);
    const status = (await (await fetch(`${a.httpUrl}/api/replication`, { headers: { authorization: `Bearer ${a.operatorToken}` } })).json()) as ReturnType<
      Node["replication"]["status"]
    >;
    expect(status).toMatchObject({ regionId: "a", live: 1, tombstones: 0, peers: [{ regionId: "b", connected: true, lagMs: 0 }] });
    expect(status.peers[0]!.ackedSeq).toBe(status.latestSeq);
    const metrics = await (await fetch(`${b.httpUrl}/metrics`)).text();
    expect(metrics).toContain("palmline_replication_records_applied_total 1");
    expect(metrics).toContain('palmline_replication_lag_seconds{peer="a"}');
  });

  test("two regions that dial each other keep one link, the one the smaller region id dialled", async () => {
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    const [dirA, dirB] = [tempDir("palmline-a-"), tempDir("palmline-b-")];
    const [keyA, keyB] = await Promise.all([regionKeyIn(dirA), regionKeyIn(dirB)]);
    const aLogs: string[] = [];
    const [a, b] = await Promise.all([
      startRegion("a", { dataDir: dirA, port: portA, ...listing([{ regionId: "b", identityPublicKey: keyB, url: `ws://127.0.0.1:${portB}` }]) }, aLogs),
      startRegion("b", { dataDir: dirB, port: portB, ...listing([{ regionId: "a", identityPublicKey: keyA, url: `ws://127.0.0.1:${portA}` }]) }),
    ]);
    await linked(a, "b");
    await linked(b, "a");
    await waitUntil(() => b.replication.status().dialers[0]?.lastCloseCode === CloseCode.DuplicatePeerLink || undefined);
    await waitUntil(() => a.replication.status().dialers[0]?.state === "linked" || undefined);
    const identityId = await (await scanner(b)).enroll(14);
    expect(await waitUntil(async () => (await scanner(a)).identify(14))).toBe(identityId);
  });
});

describe("hostile or broken peers", () => {
  test("a malformed replication message closes the link with MalformedMessage while device sessions keep working", async () => {
    // A listed region that turned hostile (or broke).
    const mallory = await generateIdentityKeyPair();
    const b = await startRegion("b", listing([{ regionId: "mallory", identityPublicKey: mallory.publicKey }]));
    const atB = await scanner(b);
    const raw = await handshakeByHand(`${b.url}/replication`, mallory, b.identityPublicKey, systemClock);
    raw.socket.send(raw.sealer.seal(FrameKind.Data, encodeMessage({ type: "replication.hello", regionId: "mallory", appliedSeq: 0 })));
    expect(decodeMessage(raw.opener.open(await nextFrame(raw, 2)).plaintext)).toMatchObject({ type: "replication.hello", regionId: "b" });
    // A record whose sealed data key is 31 bytes: the schema says exactly 80.
    const bad = encode({
      type: "replication.changes",
      batchId: "b_1",
      records: [
        {
          identityId: "id_x",
          originRegion: "mallory",
          created: { wallMs: 1, counter: 0, nodeId: "mallory" },
          lastSeenMs: 1,
          sealedDataKey: new Uint8Array(31),
          fields: [],
        },
      ],
      upToSeq: 1,
      more: false,
    });
    raw.socket.send(raw.sealer.seal(FrameKind.Data, bad));
    expect((await raw.closed).code).toBe(CloseCode.MalformedMessage);
    expect(atB.link.isOpen).toBe(true);
    expect(await atB.identify(31)).toBeUndefined();
    expect(b.replication.status().live).toBe(0);
  });

  test("a region link without a valid hello first is closed with UnexpectedMessage", async () => {
    const b = await startRegion("b", listing([]));
    const raw = await handshakeByHand(`${b.url}/replication`, await generateIdentityKeyPair(), b.identityPublicKey, systemClock);
    raw.socket.send(raw.sealer.seal(FrameKind.Data, encodeMessage({ type: "replication.ack", upToSeq: 5 })));
    expect((await raw.closed).code).toBe(CloseCode.UnexpectedMessage);
  });
});

/**
 * Enrolls palms straight into a node's registry (a second connection, as an operator's import
 * would) and moves them behind its feed's cursor in the same turn of the event loop, so the feed
 * never sends them: only a digest comparison can find them.
 */
const enrollBehindTheFeed = async (node: Node, palmSeeds: readonly number[]) => {
  const dataDir = dataDirOf.get(node)!;
  const keyring = await loadOrCreateRegionKeyring(dataDir);
  // Not the node's open: a second connection must not sweep orphan keys (registry-database.ts).
  const db = openRegistryDatabase(dataDir);
  cleanups.push(() => db.close());
  const registry = Effect.runSync(
    makeIdentityRegistry({
      regionId: node.regionId,
      vault: new IdentityVault(await loadSodium(), keyring.storageKey),
      sodium: await loadSodium(),
      identityKey: keyring.identity,
      hlc: new HybridLogicalClock(node.regionId, () => Date.now()),
      phoneHash: phoneHasher(keyring.storageKey),
    }).pipe(Effect.provideService(IdentityStorage, sqliteIdentityStorage(db))),
  );
  const entries = palmSeeds.map((seed) => ({ identityId: newIdentityId(), template: syntheticTemplate(seed) }));
  Effect.runSync(registry.enroll(entries, Date.now()));
  const hide = db.prepare("UPDATE identities SET change_seq = 0 WHERE identity_id = ?");
  for (const { identityId } of entries) hide.run(identityId);
  // Written outside the node's registry, so its change stream never carried it: tell the feed.
  node.replication.registryChanged();
  return entries.map((e) => e.identityId);
};

describe("anti-entropy", () => {
  test("repairs a record the feed skipped", async () => {
    const { a, b } = await linkedPair();
    const [identityId] = await enrollBehindTheFeed(a, [41]);
    await waitUntil(() => a.replication.status().peers[0]?.ackedSeq === a.replication.status().latestSeq || undefined);
    const atB = await scanner(b);
    expect(await atB.identify(41)).toBeUndefined();
    expect(b.replication.status().digest).not.toBe(a.replication.status().digest);

    a.replication.antiEntropyNow();
    expect(await waitUntil(() => atB.identify(41))).toBe(identityId);
    // Identifying raised last-seen in B, which flows back to A: then both hold the same registry.
    await waitUntil(() => b.replication.status().digest === a.replication.status().digest || undefined);
  });

  test("a round asked while the feed is still sending waits for it instead of being dropped", async () => {
    const { a, b } = await linkedPair();
    const [identityId] = await enrollBehindTheFeed(a, [42]);
    // Same turn of the event loop: A's change counter is past what its feed has sent, so A's
    // feed is busy when the round is asked (the next periodic round is 600 s away).
    a.replication.antiEntropyNow();
    await waitUntil(() => b.replication.status().live === 1 || undefined, 5_000);
    expect(await (await scanner(b)).identify(42)).toBe(identityId);
  });

  test("a repair bigger than one round's messages streams over several rounds until the digests agree", async () => {
    const { a, b } = await linkedPair();
    // ~10 KB each: several times what REPAIR_MESSAGES_PER_ROUND messages of BATCH_MAX_BYTES carry.
    const count = Math.ceil((3 * REPAIR_MESSAGES_PER_ROUND * BATCH_MAX_BYTES) / 10_500);
    await enrollBehindTheFeed(
      a,
      Array.from({ length: count }, (_, i) => 1_000 + i),
    );
    await waitUntil(() => a.replication.status().peers[0]?.ackedSeq === a.replication.status().latestSeq || undefined);
    expect(b.replication.status().live).toBe(0);

    a.replication.antiEntropyNow();
    await waitUntil(() => b.replication.status().digest === a.replication.status().digest || undefined, 60_000);
    expect(b.replication.status().live).toBe(count);
  }, 90_000);
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
