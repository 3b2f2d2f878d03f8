// Protocol benchmark: handshakes per second, small encrypted frames per second and bytes of
// overhead per frame, all on one core with both ends in this process; plus the same over real
// loopback WebSockets for context. Prints progress, then one JSON line with the numbers.
// Run: npm run bench -- protocol   (or: npm exec -- node test/bench/protocol.ts)
import { WebSocket, WebSocketServer } from "ws";
import { systemClock } from "../../core/clock.ts";
import {
  acceptResponderChannel,
  decodeMessageResult,
  encodeMessage,
  FrameKind,
  FrameOpener,
  FrameSealer,
  generateIdentityKeyPair,
  InitiatorHandshake,
  openInitiatorChannel,
  ResponderHandshake,
  SUPPORTED_VERSIONS,
  type WireMessage,
} from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";

export interface ProtocolBenchOptions {
  /** Minimum time spent on each in-memory measurement. */
  readonly durationMs?: number;
  /** Also measure over real loopback WebSockets. */
  readonly sockets?: boolean;
  readonly log?: (line: string) => void;
}

const SMALL_MESSAGE: WireMessage = {
  type: "identify.result",
  requestId: "rq_0123456789ab",
  outcome: "match",
  identityId: "id_0123456789abcdef",
  stepUpToken: null,
  loyaltyCard: null,
};

/** Calls `body` in batches until `durationMs` has passed; returns operations per second. */
const rate = (durationMs: number, batch: number, body: () => void): number => {
  for (let i = 0; i < batch; i++) body(); // warm-up
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < batch; i++) body();
    operations += batch;
    elapsed = performance.now() - start;
  }
  return (operations * 1000) / elapsed;
};

export async function runProtocolBench(options: ProtocolBenchOptions = {}): Promise<Record<string, number>> {
  const log = options.log ?? ((line: string) => console.log(line));
  const durationMs = options.durationMs ?? 2_000;
  const sodium = await loadSodium();
  const region = await generateIdentityKeyPair();
  const device = await generateIdentityKeyPair();
  const results: Record<string, number> = {};

  log(`protocol bench: handshakes in memory (${durationMs} ms)...`);
  results.handshakes_per_s = rate(durationMs, 50, () => {
    const initiator = new InitiatorHandshake(sodium, device, region.publicKey, SUPPORTED_VERSIONS);
    const responder = new ResponderHandshake(sodium, region, SUPPORTED_VERSIONS);
    const { finish } = initiator.onHelloReply(responder.onHello(initiator.hello()));
    responder.onFinish(finish);
  });
  log(`  ${results.handshakes_per_s.toFixed(0)} handshakes/s`);

  const key = sodium.randombytes_buf(32);
  const sealer = new FrameSealer(sodium, key.slice(), systemClock);
  const opener = new FrameOpener(sodium, key.slice(), 1 << 20);
  const plaintextBytes = encodeMessage(SMALL_MESSAGE).byteLength;
  const sample = sealer.seal(FrameKind.Data, encodeMessage(SMALL_MESSAGE));
  opener.open(sample);
  results.overhead_bytes_per_frame = sample.byteLength - plaintextBytes;
  results.small_message_bytes = plaintextBytes;
  log(`  ${results.overhead_bytes_per_frame} bytes of overhead on a ${plaintextBytes}-byte message`);

  log(`protocol bench: small frames, encode + seal + open + decode (${durationMs} ms)...`);
  results.small_frames_per_s = rate(durationMs, 1_000, () => {
    const frame = sealer.seal(FrameKind.Data, encodeMessage(SMALL_MESSAGE));
    const decoded = decodeMessageResult(opener.open(frame).plaintext);
    if (decoded._tag !== "Success") throw new Error("bench frame failed to decode");
  });
  log(`  ${results.small_frames_per_s.toFixed(0)} frames/s`);

  log(`protocol bench: small frames, seal + open only (${durationMs} ms)...`);
  const payload = encodeMessage(SMALL_MESSAGE);
  results.small_frames_crypto_only_per_s = rate(durationMs, 1_000, () => {
    opener.open(sealer.seal(FrameKind.Data, payload));
  });
  log(`  ${results.small_frames_crypto_only_per_s.toFixed(0)} frames/s`);

  if (options.sockets !== false) {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    const address = server.address();
    if (typeof address === "string" || address === null) throw new Error("bench server has no port");
    const url = `ws://127.0.0.1:${address.port}`;
    const accepted: Promise<Awaited<ReturnType<typeof acceptResponderChannel>>>[] = [];
    server.on("connection", (socket) => {
      const channel = acceptResponderChannel(socket, {
        identity: region,
        admitPeer: () => ({ kind: "admit" }),
        // The bench floods on purpose; the default per-connection limit would (rightly) close it.
        inboundRateLimit: { capacity: 1e9, refillPerSecond: 1e9 },
      });
      channel.catch(() => {});
      accepted.push(channel);
    });

    log("protocol bench: handshakes over loopback WebSockets (connect included)...");
    const socketHandshakes = 300;
    let start = performance.now();
    for (let i = 0; i < socketHandshakes; i++) {
      const channel = await openInitiatorChannel(new WebSocket(url), { identity: device, pinnedResponderKey: region.publicKey });
      channel.close(1000, "bench");
    }
    results.socket_handshakes_per_s = (socketHandshakes * 1000) / (performance.now() - start);
    log(`  ${results.socket_handshakes_per_s.toFixed(0)} handshakes/s`);

    log("protocol bench: small messages over one loopback WebSocket session...");
    const deviceSide = await openInitiatorChannel(new WebSocket(url), { identity: device, pinnedResponderKey: region.publicKey });
    const regionSide = await accepted[accepted.length - 1]!;
    const count = 100_000;
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      regionSide.onMessage(() => {
        if (++received === count) resolve();
      });
      void regionSide.closed.then((c) => reject(new Error(`bench session closed: ${c.code} ${c.reason}`)));
    });
    start = performance.now();
    for (let i = 0; i < count; i++) deviceSide.send(SMALL_MESSAGE);
    await done;
    results.socket_small_messages_per_s = (count * 1000) / (performance.now() - start);
    log(`  ${results.socket_small_messages_per_s.toFixed(0)} messages/s`);
    deviceSide.close(1000, "bench");
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }

  for (const [name, value] of Object.entries(results)) results[name] = Math.round(value * 10) / 10;
  console.log(JSON.stringify({ bench: "protocol", ...results }));
  return results;
}

if (import.meta.main) await runProtocolBench();
