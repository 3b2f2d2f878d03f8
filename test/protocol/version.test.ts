import { describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { ManualClock } from "../../core/clock.ts";
import {
  CloseCode,
  ConnectionClosed,
  FrameKind,
  MIN_SUPPORTED_VERSION,
  negotiate,
  openInitiatorChannel,
  PROTOCOL_VERSION,
  UnexpectedMessage,
  UnsupportedVersion,
  encodeMessage,
  type VersionRange,
} from "../../protocol/index.ts";
import { device, region } from "./channel-harness.ts";
import { handshakeByHand, startNodesStoppedAfterEach, type LoopbackNode } from "./loopback.ts";

let node: LoopbackNode | undefined;
const startNode = startNodesStoppedAfterEach();

const connect = async (nodeVersions: VersionRange, deviceVersions: VersionRange) => {
  node = await startNode({ identity: region, clock: new ManualClock(), versions: nodeVersions });
  const attempt = openInitiatorChannel(new WebSocket(node.url), {
    identity: device,
    pinnedResponderKey: region.publicKey,
    clock: new ManualClock(),
    versions: deviceVersions,
  });
  const server = (await node.nextSession()).outcome;
  return { attempt, server };
};

describe("version negotiation rule", () => {
  test("picks the highest version both ranges contain", () => {
    expect(negotiate({ min: 1, max: 3 }, { min: 2, max: 5 })).toBe(3);
    expect(negotiate({ min: 2, max: 5 }, { min: 1, max: 3 })).toBe(3);
  });

  test("a peer whose newest version is just below our oldest is unsupported", () => {
    expect(negotiate({ min: 2, max: 4 }, { min: 1, max: 1 })).toBeInstanceOf(UnsupportedVersion);
  });

  test("a peer whose newest version equals our oldest is supported at that version", () => {
    expect(negotiate({ min: 2, max: 4 }, { min: 1, max: 2 })).toBe(2);
  });

  test("a peer whose oldest version is above our newest is unsupported", () => {
    expect(negotiate({ min: 1, max: 2 }, { min: 3, max: 4 })).toBeInstanceOf(UnsupportedVersion);
  });

  test("an inverted range from the peer is unsupported", () => {
    expect(negotiate({ min: 1, max: 2 }, { min: 2, max: 1 })).toBeInstanceOf(UnsupportedVersion);
  });

  test("this build speaks its own range", () => {
    expect(MIN_SUPPORTED_VERSION).toBeLessThanOrEqual(PROTOCOL_VERSION);
    expect(negotiate({ min: MIN_SUPPORTED_VERSION, max: PROTOCOL_VERSION }, { min: MIN_SUPPORTED_VERSION, max: PROTOCOL_VERSION })).toBe(PROTOCOL_VERSION);
  });
});

describe("version negotiation over a real handshake", () => {
  test("a newer device meets an older node at the node's version", async () => {
    const { attempt, server } = await connect({ min: 1, max: 1 }, { min: 1, max: 2 });
    expect((await attempt).protocolVersion).toBe(1);
    const outcome = await server;
    expect(outcome.kind === "opened" && outcome.channel.protocolVersion).toBe(1);
  });

  test("an older device meets a newer node at the device's version", async () => {
    const { attempt } = await connect({ min: 1, max: 2 }, { min: 1, max: 1 });
    expect((await attempt).protocolVersion).toBe(1);
  });

  test("a device entirely above the node's range is closed with UnsupportedVersion", async () => {
    const { attempt, server } = await connect({ min: 1, max: 1 }, { min: 2, max: 3 });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionClosed);
    await expect(attempt).rejects.toMatchObject({ closeCode: CloseCode.UnsupportedVersion });
    const outcome = await server;
    expect(outcome.kind === "rejected" && outcome.error).toBeInstanceOf(UnsupportedVersion);
  });

  test("a device below a node that raised its minimum is closed with UnsupportedVersion", async () => {
    const { attempt } = await connect({ min: 2, max: 3 }, { min: 1, max: 1 });
    await expect(attempt).rejects.toMatchObject({ closeCode: CloseCode.UnsupportedVersion });
  });

  test("a message newer than the negotiated version is refused when sending", async () => {
    const { attempt } = await connect({ min: 0, max: 1 }, { min: 0, max: 0 });
    const channel = await attempt;
    expect(channel.protocolVersion).toBe(0);
    expect(() => channel.send({ type: "heartbeat", sentAt: 1 })).toThrow(UnexpectedMessage);
  });

  test("replication messages need version 2: a version-1 session cannot carry them", async () => {
    const { attempt } = await connect({ min: 1, max: 2 }, { min: 1, max: 1 });
    const channel = await attempt;
    expect(() => channel.send({ type: "replication.ack", upToSeq: 1 })).toThrow(UnexpectedMessage);
  });

  test("a message newer than the negotiated version is refused on receipt with UnexpectedMessage", async () => {
    node = await startNode({ identity: region, clock: new ManualClock(), versions: { min: 0, max: 1 } });
    const client = await handshakeByHand(node.url, device, region.publicKey, new ManualClock(), { min: 0, max: 0 });
    const outcome = await (await node.nextSession()).outcome;
    if (outcome.kind !== "opened") throw outcome.error;
    client.socket.send(client.sealer.seal(FrameKind.Data, encodeMessage({ type: "heartbeat", sentAt: 1 })));
    expect((await outcome.channel.closed).code).toBe(CloseCode.UnexpectedMessage);
    expect((await client.closed).code).toBe(CloseCode.UnexpectedMessage);
  });
});
