import { describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { ManualClock } from "../../core/clock.ts";
import {
  CloseCode,
  ConnectionClosed,
  generateIdentityKeyPair,
  HandshakeTimeout,
  MalformedMessage,
  openInitiatorChannel,
  PeerRefused,
  PinnedKeyMismatch,
  PROTOCOL_VERSION,
  type IdentityKeyPair,
  type WireMessage,
} from "../../protocol/index.ts";
import { device, region } from "./channel-harness.ts";
import { connectRaw, startNodesStoppedAfterEach, type LoopbackNode, type NodeOptions } from "./loopback.ts";
import { ALL_SAMPLES } from "./sample-messages.ts";

let node: LoopbackNode | undefined;
const startNode = startNodesStoppedAfterEach();

const start = async (options: Partial<NodeOptions> = {}) => {
  node = await startNode({ identity: region, clock: new ManualClock(), ...options });
  return node;
};

const dial = (url: string, identity: IdentityKeyPair = device, pinnedResponderKey = region.publicKey, clock = new ManualClock()) =>
  openInitiatorChannel(new WebSocket(url), { identity, pinnedResponderKey, clock });

const opened = async (n: LoopbackNode) => {
  const outcome = await (await n.nextSession()).outcome;
  if (outcome.kind !== "opened") throw outcome.error;
  return outcome.channel;
};

const nextMessage = (channel: { onMessage(h: (m: WireMessage) => void): () => void }) =>
  new Promise<WireMessage>((resolve) => {
    const off = channel.onMessage((m) => {
      off();
      resolve(m);
    });
  });

describe("secure channel handshake", () => {
  test("both sides learn each other's identity key and the negotiated version", async () => {
    const n = await start();
    const deviceSide = await dial(n.url);
    const regionSide = await opened(n);
    expect(deviceSide.peerPublicKey).toEqual(region.publicKey);
    expect(regionSide.peerPublicKey).toEqual(device.publicKey);
    expect(deviceSide.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(regionSide.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(deviceSide.admission).toEqual({ kind: "admit" });
  });

  test("an initiator refuses a responder whose key is not the pinned one", async () => {
    const n = await start();
    const impostorPin = (await generateIdentityKeyPair()).publicKey;
    await expect(dial(n.url, device, impostorPin)).rejects.toBeInstanceOf(PinnedKeyMismatch);
    const regionSide = await (await n.nextSession()).outcome;
    expect(regionSide.kind).toBe("rejected");
    if (regionSide.kind === "rejected") expect(regionSide.error).toMatchObject({ closeCode: CloseCode.PinnedKeyMismatch });
  });

  test("a refused device is told the node's close code", async () => {
    const n = await start({ admitPeer: () => ({ kind: "refuse", code: CloseCode.UnknownDevice, reason: "unknown device" }) });
    const attempt = dial(n.url);
    await expect(attempt).rejects.toBeInstanceOf(ConnectionClosed);
    await expect(attempt).rejects.toMatchObject({ closeCode: CloseCode.UnknownDevice, reason: "unknown device" });
    const regionSide = await (await n.nextSession()).outcome;
    expect(regionSide.kind === "rejected" && regionSide.error).toBeInstanceOf(PeerRefused);
  });

  test("the node's admission decision sees the device's authenticated key", async () => {
    const seen: Uint8Array[] = [];
    const n = await start({
      admitPeer: (key) => {
        seen.push(key);
        return { kind: "provisioning-only" };
      },
    });
    const deviceSide = await dial(n.url);
    const regionSide = await opened(n);
    expect(seen).toEqual([device.publicKey]);
    expect(regionSide.admission).toEqual({ kind: "provisioning-only" });
    expect(deviceSide.admission).toEqual({ kind: "provisioning-only" });
  });

  test("an async admission decision is awaited", async () => {
    const n = await start({ admitPeer: async () => ({ kind: "refuse", code: CloseCode.DeviceRevoked, reason: "revoked" }) });
    await expect(dial(n.url)).rejects.toMatchObject({ closeCode: CloseCode.DeviceRevoked });
  });

  test("the responder times out a peer that never completes the handshake", async () => {
    const clock = new ManualClock();
    const n = await start({ clock, handshakeTimeoutMs: 5_000 });
    const client = await connectRaw(n.url);
    const session = await n.nextSession();
    clock.advance(4_999);
    client.socket.send(Uint8Array.of(1)); // proves the server is still waiting, not already closed
    clock.advance(1);
    const outcome = await session.outcome;
    expect(outcome.kind === "rejected" && outcome.error).toBeInstanceOf(HandshakeTimeout);
    expect((await client.closed).code).toBe(CloseCode.HandshakeTimeout);
  });

  test("the initiator times out a responder that never answers", async () => {
    const clock = new ManualClock();
    const { WebSocketServer } = await import("ws");
    const silent = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => silent.once("listening", () => resolve()));
    const address = silent.address();
    if (typeof address === "string" || address === null) throw new Error("no port");
    const helloSeen = new Promise<void>((resolve) => silent.on("connection", (s) => s.once("message", () => resolve())));
    const attempt = openInitiatorChannel(new WebSocket(`ws://127.0.0.1:${address.port}`), {
      identity: device,
      pinnedResponderKey: region.publicKey,
      clock,
      handshakeTimeoutMs: 3_000,
    });
    await helloSeen;
    clock.advance(3_000);
    await expect(attempt).rejects.toBeInstanceOf(HandshakeTimeout);
    for (const c of silent.clients) c.terminate();
    await new Promise((resolve) => silent.close(resolve));
  });

  test("a node that is unreachable rejects with ConnectionClosed", async () => {
    const n = await start();
    const url = n.url;
    await n.stop();
    node = undefined;
    await expect(dial(url)).rejects.toBeInstanceOf(ConnectionClosed);
  });
});

describe("region to region links", () => {
  test("a region dials a peer region it pinned and they exchange replication changes", async () => {
    const peerRegion = await generateIdentityKeyPair();
    const knownRegions = [Buffer.from(peerRegion.publicKey).toString("hex")];
    const n = await start({
      admitPeer: (key) =>
        knownRegions.includes(Buffer.from(key).toString("hex"))
          ? { kind: "admit" }
          : { kind: "refuse", code: CloseCode.UnknownDevice, reason: "unknown region" },
    });
    const dialler = await dial(n.url, peerRegion, region.publicKey);
    const answering = await opened(n);
    const changes: WireMessage = {
      type: "replication.changes",
      batchId: "b_1",
      records: [
        {
          identityId: "id_1",
          originRegion: "eu-central",
          created: { wallMs: 1, counter: 0, nodeId: "eu-central" },
          lastSeenMs: 1,
          tombstone: { wallMs: 2, counter: 0, nodeId: "eu-central" },
          fields: [],
        },
      ],
      upToSeq: 7,
      more: false,
    };
    const arrived = nextMessage(answering);
    dialler.send(changes);
    expect(await arrived).toEqual(changes);
    expect(answering.peerPublicKey).toEqual(peerRegion.publicKey);
  });

  test("a region that is not known is refused", async () => {
    const n = await start({ admitPeer: () => ({ kind: "refuse", code: CloseCode.UnknownDevice, reason: "unknown region" }) });
    const stranger = await generateIdentityKeyPair();
    await expect(dial(n.url, stranger, region.publicKey)).rejects.toMatchObject({ closeCode: CloseCode.UnknownDevice });
  });
});

describe("secure channel messages", () => {
  test.each(ALL_SAMPLES.map((m) => [m.type, m] as const))("%s arrives intact, encrypted, device to region", async (_t, message) => {
    const n = await start();
    const deviceSide = await dial(n.url);
    const regionSide = await opened(n);
    const arrived = nextMessage(regionSide);
    deviceSide.send(message);
    expect(await arrived).toEqual(message);
  });

  test("messages flow region to device too, in order", async () => {
    const n = await start();
    const deviceSide = await dial(n.url);
    const regionSide = await opened(n);
    const got: WireMessage[] = [];
    const done = new Promise<void>((resolve) =>
      deviceSide.onMessage((m) => {
        got.push(m);
        if (got.length === ALL_SAMPLES.length) resolve();
      }),
    );
    for (const m of ALL_SAMPLES) regionSide.send(m);
    await done;
    expect(got).toEqual(ALL_SAMPLES);
  });

  test("a message sent right after the handshake reaches a handler registered after await", async () => {
    const n = await start();
    const regionReady = n.nextSession().then(async (s) => {
      const outcome = await s.outcome;
      if (outcome.kind === "opened") outcome.channel.send({ type: "heartbeat", sentAt: 1 });
    });
    const deviceSide = await dial(n.url);
    await regionReady;
    expect(await nextMessage(deviceSide)).toEqual({ type: "heartbeat", sentAt: 1 });
  });

  test("the payload never appears in clear on the wire", async () => {
    const n = await start();
    const deviceSide = await dial(n.url);
    const regionSide = await opened(n);
    const arrived = nextMessage(regionSide);
    deviceSide.send({ type: "error", code: "InternalError", message: "PLAINTEXT-MARKER-1234" });
    await arrived;
    const session = n.sessions[0]!;
    const wire = Buffer.concat(session.received).toString("latin1");
    expect(wire).not.toContain("PLAINTEXT-MARKER-1234");
  });

  test("an outgoing message that breaks the schema is refused before it is sent", async () => {
    const n = await start();
    const deviceSide = await dial(n.url);
    expect(() => deviceSide.send({ type: "heartbeat", sentAt: -5 })).toThrow(MalformedMessage);
    expect(deviceSide.isOpen).toBe(true);
  });

  test("closing one side resolves closed on both with the same code", async () => {
    const n = await start();
    const deviceSide = await dial(n.url);
    const regionSide = await opened(n);
    regionSide.close(CloseCode.ServerShutdown, "maintenance");
    expect(await regionSide.closed).toMatchObject({ code: CloseCode.ServerShutdown, initiatedBy: "local" });
    expect(await deviceSide.closed).toMatchObject({ code: CloseCode.ServerShutdown, reason: "maintenance", initiatedBy: "peer" });
  });
});
