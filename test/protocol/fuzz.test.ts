// Random and mutated bytes at every handshake stage and after it. Most of the 100,000 frames go
// straight into the exact objects the node runs (handshake steps, frame opener, codec), which is
// fast; several thousand go over real sockets to a real node that also keeps serving a healthy
// session. The properties: every rejection is a typed ChannelError with a 4xxx close code, the
// peer sees that code, nothing throws anything else, and the node's state returns to baseline.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { ManualClock } from "../../core/clock.ts";
import {
  decodeMessageResult,
  encodeMessage,
  FrameKind,
  FrameOpener,
  FrameSealer,
  generateIdentityKeyPair,
  InitiatorHandshake,
  isChannelError,
  openInitiatorChannel,
  PeerSessions,
  ResponderHandshake,
  SUPPORTED_VERSIONS,
  type ChannelError,
  type InitiatorChannel,
  type WireMessage,
} from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { connectRaw, handshakeByHand, nextFrame, startNode, type LoopbackNode, type SessionOutcome } from "./loopback.ts";
import { ALL_SAMPLES } from "./sample-messages.ts";

const sodium = await loadSodium();
const region = await generateIdentityKeyPair();
const device = await generateIdentityKeyPair();
const MAX_FRAME = 64 * 1024;

let framesFuzzed = 0;
const rejectionsByTag = new Map<string, number>();

// ---- mutations that always change the bytes ----

type Mutation =
  | { readonly kind: "xor"; readonly index: number; readonly mask: number }
  | { readonly kind: "truncate"; readonly keep: number }
  | { readonly kind: "extend"; readonly extra: Uint8Array }
  | { readonly kind: "replace"; readonly bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("xor" as const), index: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant("extend" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ kind: fc.constant("replace" as const), bytes: fc.uint8Array({ minLength: 0, maxLength: 300 }) }),
);

const applyMutation = (bytes: Uint8Array, m: Mutation): Uint8Array => {
  switch (m.kind) {
    case "xor": {
      const out = bytes.slice();
      if (out.length === 0) return Uint8Array.of(m.mask);
      const i = m.index % out.length;
      out[i] = out[i]! ^ m.mask;
      return out;
    }
    case "truncate":
      return bytes.subarray(0, bytes.length === 0 ? 0 : m.keep % bytes.length);
    case "extend":
      return new Uint8Array([...bytes, ...m.extra]);
    case "replace":
      return m.bytes;
  }
};

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Runs one step on fuzzed input: accepted, or rejected with a typed error; anything else fails the test. */
const step = (run: () => unknown): "accepted" | ChannelError => {
  framesFuzzed++;
  try {
    run();
    return "accepted";
  } catch (error) {
    if (!isChannelError(error)) throw error;
    expect(error.closeCode).toBeGreaterThanOrEqual(4000);
    expect(error.closeCode).toBeLessThan(5000);
    rejectionsByTag.set(error._tag, (rejectionsByTag.get(error._tag) ?? 0) + 1);
    return error;
  }
};

const newInitiator = () => new InitiatorHandshake(sodium, device, region.publicKey, SUPPORTED_VERSIONS);
const newResponder = () => new ResponderHandshake(sodium, region, SUPPORTED_VERSIONS);

describe("fuzzing the objects the node runs", () => {
  test("hello stage: random and mutated hellos (20,000)", () => {
    const validHello = newInitiator().hello();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }),
          mutationArb.map((m) => applyMutation(validHello, m)),
        ),
        (hello) => {
          step(() => newResponder().onHello(hello));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  test("finish stage: random and mutated finishes (3,000)", () => {
    fc.assert(
      fc.property(fc.boolean(), mutationArb, (random, mutation) => {
        const initiator = newInitiator();
        const responder = newResponder();
        const reply = responder.onHello(initiator.hello());
        const { finish } = initiator.onHelloReply(reply);
        const fuzzed = applyMutation(random ? new Uint8Array(0) : finish, mutation);
        const outcome = step(() => responder.onFinish(fuzzed));
        if (!sameBytes(fuzzed, finish)) expect(outcome).not.toBe("accepted");
      }),
      { numRuns: 3_000 },
    );
  });

  test("reply stage: random and mutated hello replies reach the initiator (3,000)", () => {
    fc.assert(
      fc.property(mutationArb, (mutation) => {
        const initiator = newInitiator();
        const reply = newResponder().onHello(initiator.hello());
        const fuzzed = applyMutation(reply, mutation);
        const outcome = step(() => initiator.onHelloReply(fuzzed));
        if (!sameBytes(fuzzed, reply)) expect(outcome).not.toBe("accepted");
      }),
      { numRuns: 3_000 },
    );
  });

  test("after the handshake: random and mutated transport frames (50,000)", () => {
    const key = sodium.randombytes_buf(32);
    const clock = new ManualClock();
    const messages = ALL_SAMPLES.map((m) => encodeMessage(m));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: messages.length - 1 }),
        fc.oneof(mutationArb, fc.constant("replay" as const), fc.uint8Array({ maxLength: 200 })),
        (which, attack) => {
          const sealer = new FrameSealer(sodium, key.slice(), clock);
          const opener = new FrameOpener(sodium, key.slice(), MAX_FRAME);
          const frame = sealer.seal(FrameKind.Data, messages[which]!);
          let fuzzed: Uint8Array;
          if (attack === "replay") {
            opener.open(frame);
            fuzzed = frame;
          } else if (attack instanceof Uint8Array) {
            fuzzed = attack;
          } else {
            fuzzed = applyMutation(frame, attack);
          }
          const outcome = step(() => opener.open(fuzzed));
          if (attack === "replay" || !sameBytes(fuzzed, frame)) expect(outcome).not.toBe("accepted");
        },
      ),
      { numRuns: 50_000 },
    );
  });

  test("decrypted payloads: arbitrary values and mutated messages never escape the codec (21,000)", () => {
    const messages = ALL_SAMPLES.map((m) => encodeMessage(m));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything().map((value) => {
            try {
              return encodeMessage(value as WireMessage);
            } catch {
              return new Uint8Array(0);
            }
          }),
          fc.tuple(fc.integer({ min: 0, max: messages.length - 1 }), mutationArb).map(([i, m]) => applyMutation(messages[i]!, m)),
        ),
        (payload) => {
          framesFuzzed++;
          const result = decodeMessageResult(payload);
          if (result._tag === "Failure") expect(result.failure.closeCode).toBe(4105);
        },
      ),
      { numRuns: 21_000 },
    );
  });
});

describe("fuzzing a real node over loopback sockets", () => {
  let node: LoopbackNode;
  const sessions = new PeerSessions();
  let healthy: InitiatorChannel;
  let heapAtStart = 0;

  beforeAll(async () => {
    node = await startNode({ identity: region, clock: new ManualClock(), recordFrames: false, maxFrameBytes: MAX_FRAME });
    const attempt = openInitiatorChannel(new WebSocket(node.url), { identity: device, pinnedResponderKey: region.publicKey, clock: new ManualClock() });
    const outcome = await (await node.nextSession()).outcome;
    if (outcome.kind !== "opened") throw outcome.error;
    sessions.add(outcome.channel);
    outcome.channel.onMessage((m) => {
      if (m.type === "heartbeat") outcome.channel.send({ type: "heartbeat.ack", sentAt: m.sentAt });
    });
    healthy = await attempt;
    heapAtStart = process.memoryUsage().heapUsed;
  });

  afterAll(async () => {
    await node.stop();
  });

  let pings = 0;
  const healthyRoundTrip = () =>
    new Promise<void>((resolve) => {
      const sentAt = ++pings;
      const off = healthy.onMessage((m) => {
        if (m.type === "heartbeat.ack" && m.sentAt === sentAt) {
          off();
          resolve();
        }
      });
      healthy.send({ type: "heartbeat", sentAt });
    });

  /** The node rejected with a typed error and the client saw the same close code. */
  const expectRejected = async (outcome: SessionOutcome, clientClosed: Promise<{ code: number }>) => {
    let error: unknown;
    if (outcome.kind === "rejected") error = outcome.error;
    else {
      sessions.add(outcome.channel);
      error = (await outcome.channel.closed).error;
    }
    expect(isChannelError(error)).toBe(true);
    const typed = error as ChannelError;
    rejectionsByTag.set(typed._tag, (rejectionsByTag.get(typed._tag) ?? 0) + 1);
    expect((await clientClosed).code).toBe(typed.closeCode);
  };

  test("hello stage: random and mutated first frames (1,500)", async () => {
    const validHello = newInitiator().hello();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }),
          mutationArb.map((m) => applyMutation(validHello, m)),
        ),
        async (hello) => {
          framesFuzzed++;
          const client = await connectRaw(node.url);
          const session = await node.nextSession();
          client.socket.send(hello);
          const first = await Promise.race([
            client.closed.then(() => "closed" as const),
            nextFrame(client, 0).then(
              () => "replied" as const,
              () => "closed" as const,
            ),
          ]);
          if (first === "replied") {
            // A mutation that left the hello well-formed (e.g. another ephemeral key): not a rejection.
            client.socket.close(1000);
            await session.outcome;
            return;
          }
          await expectRejected(await session.outcome, client.closed);
          if (framesFuzzed % 250 === 0) await healthyRoundTrip();
        },
      ),
      { numRuns: 1_500 },
    );
  });

  test("finish stage: random and mutated finishes (500)", async () => {
    await fc.assert(
      fc.asyncProperty(mutationArb, async (mutation) => {
        framesFuzzed++;
        const client = await connectRaw(node.url);
        const session = await node.nextSession();
        const initiator = newInitiator();
        client.socket.send(initiator.hello());
        const { finish } = initiator.onHelloReply(await nextFrame(client, 0));
        client.socket.send(applyMutation(finish, mutation));
        await expectRejected(await session.outcome, client.closed);
      }),
      { numRuns: 500 },
    );
    await healthyRoundTrip();
  });

  test("after the handshake: random, mutated, replayed and junk-carrying frames (1,500)", async () => {
    const clock = new ManualClock();
    const messages = ALL_SAMPLES.map((m) => encodeMessage(m));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: messages.length - 1 }),
        fc.oneof(
          mutationArb,
          fc.constant("replay" as const),
          fc.uint8Array({ minLength: 1, maxLength: 200 }).map((junk) => ({ junk })),
        ),
        async (which, attack) => {
          framesFuzzed++;
          const client = await handshakeByHand(node.url, device, region.publicKey, clock);
          const session = await node.nextSession();
          if (attack !== "replay" && "junk" in attack) {
            client.socket.send(client.sealer.seal(FrameKind.Data, attack.junk));
          } else {
            const frame = client.sealer.seal(FrameKind.Data, messages[which]!);
            if (attack === "replay") {
              client.socket.send(frame);
              client.socket.send(frame);
            } else {
              client.socket.send(applyMutation(frame, attack));
            }
          }
          await expectRejected(await session.outcome, client.closed);
          if (framesFuzzed % 250 === 0) await healthyRoundTrip();
        },
      ),
      { numRuns: 1_500 },
    );
  });

  test("the node still serves the healthy session and new ones, with nothing left behind", async () => {
    await healthyRoundTrip();
    expect(healthy.isOpen).toBe(true);
    // Closed sockets leave ws's client set once their close handshake is done.
    for (let i = 0; i < 100 && node.server.clients.size > 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(node.server.clients.size).toBe(1);
    expect(sessions.size).toBe(1);
    const heapGrowth = process.memoryUsage().heapUsed - heapAtStart;
    expect(heapGrowth).toBeLessThan(128 * 1024 * 1024);
    const fresh = openInitiatorChannel(new WebSocket(node.url), { identity: device, pinnedResponderKey: region.publicKey, clock: new ManualClock() });
    const outcome = await (await node.nextSession()).outcome;
    expect(outcome.kind).toBe("opened");
    (await fresh).close(1000, "done");
  });

  test("100,000 frames were fuzzed in total and every family of rejection occurred", () => {
    expect(framesFuzzed).toBeGreaterThanOrEqual(100_000);
    for (const tag of ["HandshakeFailed", "UnsupportedVersion", "ForgedFrame", "TruncatedFrame", "ReplayedFrame", "MalformedMessage"]) {
      expect(rejectionsByTag.get(tag) ?? 0).toBeGreaterThan(0);
    }
  });
});
