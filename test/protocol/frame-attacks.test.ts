import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { CloseCode, DEFAULT_MAX_FRAME_BYTES, encodeMessage, FrameKind, type ChannelError, type CloseCodeValue } from "../../protocol/index.ts";
import { device, region } from "./channel-harness.ts";
import { handshakeByHand, startNodesStoppedAfterEach, type LoopbackNode, type ManualInitiator } from "./loopback.ts";

let node: LoopbackNode | undefined;
const startNode = startNodesStoppedAfterEach();
const heartbeat = (sentAt: number) => encodeMessage({ type: "heartbeat", sentAt });

/** A node plus a device that finished a real handshake with it and crafts its own frames. */
const connected = async (): Promise<{ client: ManualInitiator; serverClosed: Promise<{ code: number; error?: ChannelError }> }> => {
  node = await startNode({ identity: region, clock: new ManualClock() });
  const client = await handshakeByHand(node.url, device, region.publicKey, new ManualClock());
  const outcome = await (await node.nextSession()).outcome;
  if (outcome.kind !== "opened") throw outcome.error;
  return { client, serverClosed: outcome.channel.closed };
};

const expectClosedWith = async (client: ManualInitiator, serverClosed: Promise<{ code: number; error?: ChannelError }>, code: CloseCodeValue) => {
  const server = await serverClosed;
  expect(server.code).toBe(code);
  expect(server.error?.closeCode).toBe(code);
  expect((await client.closed).code).toBe(code);
};

describe("frame attacks after the handshake", () => {
  test("a replayed frame closes the session with ReplayedFrame", async () => {
    const { client, serverClosed } = await connected();
    const frame = client.sealer.seal(FrameKind.Data, heartbeat(1));
    client.socket.send(frame);
    client.socket.send(frame);
    await expectClosedWith(client, serverClosed, CloseCode.ReplayedFrame);
  });

  test("a frame that skips ahead closes the session with ReorderedFrame", async () => {
    const { client, serverClosed } = await connected();
    const first = client.sealer.seal(FrameKind.Data, heartbeat(1));
    const second = client.sealer.seal(FrameKind.Data, heartbeat(2));
    client.socket.send(second);
    client.socket.send(first);
    await expectClosedWith(client, serverClosed, CloseCode.ReorderedFrame);
  });

  test("a frame with one flipped ciphertext bit closes the session with ForgedFrame", async () => {
    const { client, serverClosed } = await connected();
    const frame = client.sealer.seal(FrameKind.Data, heartbeat(1));
    frame[frame.length - 20] = frame[frame.length - 20]! ^ 0x01;
    client.socket.send(frame);
    await expectClosedWith(client, serverClosed, CloseCode.ForgedFrame);
  });

  test("a frame whose authenticated header was altered closes the session with ForgedFrame", async () => {
    const { client, serverClosed } = await connected();
    const frame = client.sealer.seal(FrameKind.Data, heartbeat(1));
    frame[0] = FrameKind.Rekey;
    client.socket.send(frame);
    await expectClosedWith(client, serverClosed, CloseCode.ForgedFrame);
  });

  test("a frame cut short closes the session with TruncatedFrame", async () => {
    const { client, serverClosed } = await connected();
    const frame = client.sealer.seal(FrameKind.Data, heartbeat(1));
    client.socket.send(frame.subarray(0, frame.length - 5));
    await expectClosedWith(client, serverClosed, CloseCode.TruncatedFrame);
  });

  test("a frame shorter than a header closes the session with TruncatedFrame", async () => {
    const { client, serverClosed } = await connected();
    client.socket.send(Uint8Array.of(FrameKind.Data, 0, 0));
    await expectClosedWith(client, serverClosed, CloseCode.TruncatedFrame);
  });

  test("a frame over the size limit closes the session with OversizedFrame before any decryption", async () => {
    const { client, serverClosed } = await connected();
    client.socket.send(new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1));
    await expectClosedWith(client, serverClosed, CloseCode.OversizedFrame);
  });

  test("an authentic frame carrying a message outside the catalogue closes with MalformedMessage", async () => {
    const { client, serverClosed } = await connected();
    const { encode } = await import("@msgpack/msgpack");
    client.socket.send(client.sealer.seal(FrameKind.Data, encode({ type: "heartbeat", sentAt: "yesterday" })));
    await expectClosedWith(client, serverClosed, CloseCode.MalformedMessage);
  });

  test("a text WebSocket message closes with MalformedMessage", async () => {
    const { client, serverClosed } = await connected();
    client.socket.send("hello");
    await expectClosedWith(client, serverClosed, CloseCode.MalformedMessage);
  });

  test("a second accept frame from the initiator closes with UnexpectedMessage", async () => {
    const { client, serverClosed } = await connected();
    client.socket.send(client.sealer.seal(FrameKind.Accept, Uint8Array.of(1)));
    await expectClosedWith(client, serverClosed, CloseCode.UnexpectedMessage);
  });
});
