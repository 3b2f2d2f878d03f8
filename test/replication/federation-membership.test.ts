// Issue #15's attacks on federation membership, replayed against real region nodes in this process
// (SQLite, shards, libsodium, WebSockets on port 0) by a hand-driven peer that completes the real
// secure-channel handshake: who the operator's federation list does not name (or names with
// another key) learns nothing; a region taken off the list is cut off and stops holding back
// pruning; a stamp far ahead is refused and cannot stop a feed; data keys cross only sealed.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode } from "@msgpack/msgpack";
import { Effect } from "effect";
import { afterEach, describe, expect, test } from "vitest";
import { startRegionNode, type RegionNodeSettings } from "../../cloud/region-node.ts";
import { makeIdentityRegistry } from "../../cloud/identity/identity-registry.ts";
import { WriteSignatures } from "../../cloud/identity/write-signatures.ts";
import { phoneHasher } from "../../cloud/identity/phone-hash.ts";
import { MAX_CLOCK_SKEW_MS } from "../../cloud/replication/clock-skew.ts";
import { dataKeySealerFor } from "../../cloud/replication/sealed-data-key.ts";
import { IdentityStorage } from "../../cloud/storage/identity-storage.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadOrCreateRegionKeyring } from "../../cloud/storage/region-keyring.ts";
import { openRegistryDatabase } from "../../cloud/storage/sqlite/registry-database.ts";
import { sqliteIdentityStorage } from "../../cloud/storage/sqlite/sqlite-identity-storage.ts";
import { systemClock } from "../../core/clock.ts";
import { HybridLogicalClock, MAX_HLC_COUNTER, type HlcTimestamp } from "../../core/hybrid-logical-clock.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import {
  CloseCode,
  decodeMessage,
  encodeMessage,
  FrameKind,
  generateIdentityKeyPair,
  SEALED_DATA_KEY_BYTES,
  type IdentityKeyPair,
  type WireMessage,
} from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { sealForOneRequest, sealForRequest, syntheticPalm, tempDir } from "../cloud/fixtures.ts";
import { handshakeByHand, nextFrame, type ManualInitiator } from "../protocol/loopback.ts";
import { federatedPair, writeFederationList, type ListedRegion } from "../support/federation-lists.ts";
import { waitUntil } from "../support/wait-until.ts";

type Node = Awaited<ReturnType<typeof startRegionNode>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const YEAR_MS = 365 * 24 * 3_600_000;

const startRegion = async (regionId: string, extra: Partial<RegionNodeSettings> & { dataDir: string }, logs: string[] = []) => {
  const node = await startRegionNode({
    regionId,
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock: systemClock,
    log: (line) => logs.push(line),
    antiEntropyEveryMs: 600_000,
    ...extra,
  });
  cleanups.push(() => node.close());
  return node;
};

/** A region listening with a federation list naming `listed`; the list's file, to edit later. */
const listeningRegion = async (regionId: string, listed: readonly ListedRegion[], logs: string[] = []) => {
  const dataDir = tempDir(`palmline-${regionId}-`);
  const membersFile = writeFederationList(join(dataDir, "federation.json"), listed);
  return { node: await startRegion(regionId, { dataDir, federationMembersFile: membersFile }, logs), membersFile, dataDir };
};

/** B listening, A dialling it, linked. */
const linkedPair = async (bLogs: string[] = []) => {
  const pair = await federatedPair("b", "a");
  const b = await startRegion("b", pair.listener, bLogs);
  const a = await startRegion("a", pair.dialler(b.url));
  await linked(a, "b");
  await linked(b, "a");
  return { a, b, bList: pair.listener.federationMembersFile, bDir: pair.listener.dataDir };
};

const linked = (from: Node, peer: string) => waitUntil(() => from.replication.status().peers.some((p) => p.regionId === peer && p.connected) || undefined);

const scanner = async (node: Node) => {
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: "lane" });
  const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode({ roles: ["enrollment-kiosk", "service-point"] }) });
  cleanups.push(() => link.close());
  const palm = (seed: number, capture: number) => sealForOneRequest(link, syntheticPalm(seed)(capture));
  return {
    enroll: async (seed: number) => {
      const result = await link.enroll(await sealForRequest(link, syntheticPalm(seed)(0), syntheticPalm(seed)(1), syntheticPalm(seed)(2)));
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

/** A hand-driven peer on `node`'s /replication: sends what the test writes, reads the region's messages in order. */
const rawPeer = async (node: Node, identity: IdentityKeyPair) => {
  const raw = await handshakeByHand(`${node.url}/replication`, identity, node.identityPublicKey, systemClock);
  cleanups.push(() => raw.socket.close());
  let nextIndex = 2; // frames 0 and 1 were the handshake's
  /** Every message's bytes as they crossed, opened: what a captured frame holds inside the channel. */
  const plaintexts: Uint8Array[] = [];
  const read = async (): Promise<WireMessage> => {
    const { plaintext } = raw.opener.open(await nextFrame(raw, nextIndex++));
    plaintexts.push(plaintext);
    return decodeMessage(plaintext);
  };
  return {
    raw,
    plaintexts,
    send: (message: WireMessage) => raw.socket.send(raw.sealer.seal(FrameKind.Data, encodeMessage(message))),
    sendBytes: (bytes: Uint8Array) => raw.socket.send(raw.sealer.seal(FrameKind.Data, bytes)),
    read,
    /** The region's messages until one of this type (heartbeats and the like skipped). */
    until: async <T extends WireMessage["type"]>(type: T): Promise<Extract<WireMessage, { type: T }>> => {
      for (;;) {
        const message = await read();
        if (message.type === type) return message as Extract<WireMessage, { type: T }>;
      }
    },
  };
};

/** Nothing but the handshake reached the peer before the region closed the link. */
const refusedHavingLearnedNothing = async (raw: ManualInitiator) => {
  const closure = await raw.closed;
  expect(raw.received).toHaveLength(2);
  return closure.code;
};

describe("who may link", () => {
  test("a region id not on the list is refused with NotFederationMember before it learns anything", async () => {
    const { node: b } = await listeningRegion("b", [{ regionId: "a", identityPublicKey: (await generateIdentityKeyPair()).publicKey }]);
    await (await scanner(b)).enroll(71);
    const stranger = await rawPeer(b, await generateIdentityKeyPair());
    stranger.send({ type: "replication.hello", regionId: "mallory", appliedSeq: 0 });
    expect(await refusedHavingLearnedNothing(stranger.raw)).toBe(CloseCode.NotFederationMember);
    // Nothing kept about it either: no progress row, so nothing it could hold back.
    expect(b.replication.status().peers).toEqual([]);
  });

  test("a listed region id presented with another identity key is refused with PeerKeyMismatch", async () => {
    const { node: b } = await listeningRegion("b", [{ regionId: "a", identityPublicKey: (await generateIdentityKeyPair()).publicKey }]);
    await (await scanner(b)).enroll(72);
    const impostor = await rawPeer(b, await generateIdentityKeyPair());
    impostor.send({ type: "replication.hello", regionId: "a", appliedSeq: 0 });
    expect(await refusedHavingLearnedNothing(impostor.raw)).toBe(CloseCode.PeerKeyMismatch);
    expect(b.replication.status().peers).toEqual([]);
  });

  test("the old shared federation key's proof admits nobody: a hello carrying one is judged by the list alone", async () => {
    const { node: b } = await listeningRegion("b", []);
    const holder = await rawPeer(b, await generateIdentityKeyPair());
    // Version 5's hello, with the HMAC proof a federation key holder could make for any new id.
    holder.sendBytes(encode({ type: "replication.hello", regionId: "new-region", proof: new Uint8Array(32).fill(7), appliedSeq: 0 }));
    expect(await refusedHavingLearnedNothing(holder.raw)).toBe(CloseCode.NotFederationMember);
  });
});

describe("the list itself", () => {
  test("a region whose own entry names another key does not start", async () => {
    const dataDir = tempDir("palmline-b-");
    const membersFile = writeFederationList(join(dataDir, "federation.json"), [
      { regionId: "b", identityPublicKey: (await generateIdentityKeyPair()).publicKey },
    ]);
    await expect(startRegion("b", { dataDir, federationMembersFile: membersFile })).rejects.toThrow(/own entry names another identity key/);
  });
});

describe("taking a region off the list", () => {
  test("cuts its live link at once and refuses it when it dials again", async () => {
    const { a, b, bList } = await linkedPair();
    writeFederationList(bList, []);
    b.replication.reloadMembers();
    await waitUntil(() => a.replication.status().dialers[0]?.lastCloseCode === CloseCode.NotFederationMember || undefined);
    expect(b.replication.status().peers).toEqual([]);
    expect(a.replication.status().peers[0]).toMatchObject({ regionId: "b", connected: false });
  });

  test("a list that no longer loads leaves the one in force", async () => {
    const logs: string[] = [];
    const { a, b, bList } = await linkedPair(logs);
    writeFileSync(bList, "{ not json");
    b.replication.reloadMembers();
    expect(logs.some((l) => l.includes("federation list not reloaded"))).toBe(true);
    expect(b.replication.status().peers).toMatchObject([{ regionId: "a", connected: true }]);
    expect(a.replication.status().peers).toMatchObject([{ regionId: "b", connected: true }]);
  });
});

/** A live record as a hostile listed peer would send it: its data key sealed to `to`, one field of junk. */
/** Mallory's signature on a write of its own: a listed region's honest record, but for its stamp. */
const signedByMallory = async (mallory: IdentityKeyPair, identityId: string, field: { name: string; stamp: HlcTimestamp; value: Uint8Array }) => ({
  ...field,
  signature: new WriteSignatures(await loadSodium(), "mallory", mallory, { publicKeyOf: () => undefined }).signField(identityId, field),
});

const forgedRecord = async (to: Node, mallory: IdentityKeyPair, identityId: string, stamp: { wallMs: number; counter: number }) => {
  const seal = dataKeySealerFor(await loadSodium(), to.identityPublicKey);
  const hlc = { ...stamp, nodeId: "mallory" };
  return {
    identityId,
    originRegion: "mallory",
    created: hlc,
    lastSeenMs: stamp.wallMs,
    sealedDataKey: seal(new Uint8Array(32).fill(5)),
    fields: [await signedByMallory(mallory, identityId, { name: "loyalty_card", stamp: hlc, value: new Uint8Array(48).fill(1) })],
  };
};

describe("clock stamps", () => {
  test("a record stamped 100 years ahead is refused on receipt, and the region's feed keeps flowing to its other peers", async () => {
    const mallory = await generateIdentityKeyPair();
    const logs: string[] = [];
    const pair = await federatedPair("b", "a");
    writeFederationList(pair.listener.federationMembersFile, [
      { regionId: "a", identityPublicKey: pair.diallerKey },
      { regionId: "mallory", identityPublicKey: mallory.publicKey },
    ]);
    const b = await startRegion("b", pair.listener, logs);
    // A lists Mallory too: what B forwards of Mallory's verifies against the key A's list names.
    const aSettings = pair.dialler(b.url);
    writeFederationList(aSettings.federationMembersFile, [
      { regionId: "b", identityPublicKey: pair.listenerKey, url: b.url },
      { regionId: "mallory", identityPublicKey: mallory.publicKey },
    ]);
    const a = await startRegion("a", aSettings);
    await linked(a, "b");

    const peer = await rawPeer(b, mallory);
    peer.send({ type: "replication.hello", regionId: "mallory", appliedSeq: 0 });
    await peer.until("replication.hello");
    const now = Date.now();
    peer.send({
      type: "replication.changes",
      batchId: "b_1",
      upToSeq: 1,
      more: false,
      records: [
        await forgedRecord(b, mallory, "id_future", { wallMs: now + 100 * YEAR_MS, counter: 0 }),
        // Within the skew, but at the counter's bound: it must not push B's own stamps past it.
        await forgedRecord(b, mallory, "id_bound", { wallMs: now + MAX_CLOCK_SKEW_MS / 2, counter: MAX_HLC_COUNTER }),
      ],
    });
    expect(await peer.until("replication.ack")).toMatchObject({ upToSeq: 1 });
    expect(logs.some((l) => l.includes("refused a record from mallory") && l.includes("id_future"))).toBe(true);
    await waitUntil(() => a.replication.status().live === 1 || undefined);

    // B's own writes, stamped after the bound one, still reach A.
    const identityId = await (await scanner(b)).enroll(74);
    const atA = await scanner(a);
    expect(await waitUntil(() => atA.identify(74))).toBe(identityId);
    expect(a.replication.status().peers[0]).toMatchObject({ regionId: "b", connected: true });
    expect(a.replication.status().live).toBe(2);
  });

  test("a record already stored with a stamp far ahead is never sent, and the feed flows around it", async () => {
    const logs: string[] = [];
    const { a, b, bDir } = await linkedPair(logs);
    // Written straight into B's registry (a second connection), as a region that took it in before
    // stamps were checked would hold it.
    const keyring = await loadOrCreateRegionKeyring(bDir);
    const mallory = await generateIdentityKeyPair();
    const db = openRegistryDatabase(bDir);
    cleanups.push(() => db.close());
    const registry = Effect.runSync(
      makeIdentityRegistry({
        regionId: "b",
        vault: new IdentityVault(await loadSodium(), keyring.storageKey),
        sodium: await loadSodium(),
        identityKey: keyring.identity,
        regionKeys: { publicKeyOf: (regionId) => (regionId === "mallory" ? mallory.publicKey : undefined) },
        hlc: new HybridLogicalClock("b-import", () => Date.now()),
        phoneHash: phoneHasher(keyring.storageKey),
      }).pipe(Effect.provideService(IdentityStorage, sqliteIdentityStorage(db))),
    );
    const far = { wallMs: Date.now() + 100 * YEAR_MS, counter: 0, nodeId: "mallory" };
    Effect.runSync(
      registry.merge([
        {
          identityId: "id_future",
          originRegion: "mallory",
          created: far,
          lastSeenMs: 1,
          tombstone: undefined,
          dataKey: new Uint8Array(32).fill(5),
          fields: [await signedByMallory(mallory, "id_future", { name: "loyalty_card", stamp: far, value: new Uint8Array(48).fill(1) })],
        },
      ]),
    );
    b.replication.registryChanged();

    const identityId = await (await scanner(b)).enroll(75);
    expect(await waitUntil(async () => (await scanner(a)).identify(75))).toBe(identityId);
    expect(logs.some((l) => l.includes("not sending to a") && l.includes("id_future"))).toBe(true);
    expect(a.replication.status().live).toBe(1);
    expect(b.replication.status().peers[0]).toMatchObject({ regionId: "a", connected: true });
  });
});

describe("data keys on the wire", () => {
  test("a captured feed frame carries each data key only sealed to the receiving region", async () => {
    const receiver = await generateIdentityKeyPair();
    const { node: b, dataDir } = await listeningRegion("b", [{ regionId: "r", identityPublicKey: receiver.publicKey }]);
    const identityId = await (await scanner(b)).enroll(76);
    const peer = await rawPeer(b, receiver);
    peer.send({ type: "replication.hello", regionId: "r", appliedSeq: 0 });
    await peer.until("replication.hello");
    const changes = await peer.until("replication.changes");

    const record = changes.records.find((r) => r.identityId === identityId)!;
    expect(record).not.toHaveProperty("dataKey");
    expect(record.sealedDataKey?.byteLength).toBe(SEALED_DATA_KEY_BYTES);
    // The key B holds for the identity, unwrapped from B's own storage.
    const keyring = await loadOrCreateRegionKeyring(dataDir);
    const vault = new IdentityVault(await loadSodium(), keyring.storageKey);
    const db = openRegistryDatabase(dataDir);
    cleanups.push(() => db.close());
    const wrapped = (db.prepare("SELECT wrapped FROM keys.data_keys WHERE identity_id = ?").get(identityId) as { wrapped: Uint8Array }).wrapped;
    const dataKey = vault.unwrapDataKey(identityId, wrapped);
    // Only the receiver opens it; the message as it crossed holds no copy of the key in clear.
    const sodium = await loadSodium();
    const opened = sodium.crypto_box_seal_open(
      record.sealedDataKey!,
      sodium.crypto_sign_ed25519_pk_to_curve25519(receiver.publicKey),
      sodium.crypto_sign_ed25519_sk_to_curve25519(receiver.secretKey),
    );
    expect(Buffer.from(opened).equals(Buffer.from(dataKey))).toBe(true);
    for (const plaintext of peer.plaintexts) expect(Buffer.from(plaintext).includes(Buffer.from(dataKey))).toBe(false);
    const other = await generateIdentityKeyPair();
    expect(() =>
      sodium.crypto_box_seal_open(
        record.sealedDataKey!,
        sodium.crypto_sign_ed25519_pk_to_curve25519(other.publicKey),
        sodium.crypto_sign_ed25519_sk_to_curve25519(other.secretKey),
      ),
    ).toThrow();
  });
});
