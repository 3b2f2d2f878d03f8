// Real WebSocket plumbing on 127.0.0.1 for the protocol tests: a responder node, plain client
// sockets, and a hand-driven initiator that runs the real handshake but then lets a test put any
// bytes it likes on the wire.
import { afterEach } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { Clock } from "../../core/clock.ts";
import {
  acceptResponderChannel,
  FrameOpener,
  FrameSealer,
  InitiatorHandshake,
  SUPPORTED_VERSIONS,
  type HandshakeResult,
  type IdentityKeyPair,
  type PeerAdmission,
  type ResponderChannel,
  type ResponderOptions,
  type VersionRange,
} from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";

export type SessionOutcome = { readonly kind: "opened"; readonly channel: ResponderChannel } | { readonly kind: "rejected"; readonly error: unknown };

export interface ServerSession {
  readonly socket: WebSocket;
  /** Raw frames as the server received them, in order. */
  readonly received: Uint8Array[];
  readonly outcome: Promise<SessionOutcome>;
}

export interface LoopbackNode {
  readonly url: string;
  readonly sessions: ServerSession[];
  readonly server: WebSocketServer;
  nextSession(): Promise<ServerSession>;
  stop(): Promise<void>;
}

export interface NodeOptions extends Partial<Omit<ResponderOptions, "identity">> {
  readonly identity: IdentityKeyPair;
  readonly maxPayload?: number;
  /** Keep every raw frame the node receives (tests that inspect the wire); off for the fuzz run. */
  readonly recordFrames?: boolean;
}

export const admitEveryone = (): PeerAdmission => ({ kind: "admit" });

/**
 * For a test file: a startNode whose nodes are all stopped after the test that started them, so
 * no test leaves a listening server behind. Call once, at the file's top level (it registers the
 * afterEach).
 */
export const startNodesStoppedAfterEach = (): ((options: NodeOptions) => Promise<LoopbackNode>) => {
  const running: LoopbackNode[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((node) => node.stop()));
  });
  return async (options) => {
    const node = await startNode(options);
    running.push(node);
    return node;
  };
};

export const startNode = async (options: NodeOptions): Promise<LoopbackNode> => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: options.maxPayload ?? 2 * 1024 * 1024 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const address = server.address();
  if (typeof address === "string" || address === null) throw new Error("no port");
  const sessions: ServerSession[] = [];
  // Sessions not yet taken by nextSession(), and takers waiting for one.
  const untaken: ServerSession[] = [];
  const takers: ((session: ServerSession) => void)[] = [];
  const record = options.recordFrames !== false;
  server.on("connection", (socket) => {
    const received: Uint8Array[] = [];
    if (record) {
      socket.on("message", (data) => {
        if (Buffer.isBuffer(data)) received.push(new Uint8Array(data));
      });
    }
    const outcome: Promise<SessionOutcome> = acceptResponderChannel(socket, {
      admitPeer: admitEveryone,
      ...options,
    }).then(
      (channel) => ({ kind: "opened", channel }),
      (error: unknown) => ({ kind: "rejected", error }),
    );
    const session = { socket, received, outcome };
    if (record) sessions.push(session);
    const taker = takers.shift();
    if (taker !== undefined) taker(session);
    else untaken.push(session);
  });
  return {
    url: `ws://127.0.0.1:${address.port}`,
    sessions,
    server,
    nextSession: () => {
      const ready = untaken.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve) => takers.push(resolve));
    },
    stop: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
};

export interface RawClient {
  readonly socket: WebSocket;
  readonly received: Uint8Array[];
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
}

export const connectRaw = async (url: string): Promise<RawClient> => {
  const socket = new WebSocket(url);
  const received: Uint8Array[] = [];
  socket.on("message", (data) => {
    if (Buffer.isBuffer(data)) received.push(new Uint8Array(data));
  });
  socket.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("close", () => reject(new Error("closed before open")));
  });
  return { socket, received, closed };
};

/** The next frame the raw client receives (already-received ones first). */
export const nextFrame = (client: RawClient, index: number): Promise<Uint8Array> => {
  const ready = client.received[index];
  if (ready !== undefined) return Promise.resolve(ready);
  return new Promise((resolve, reject) => {
    const onMessage = () => {
      const frame = client.received[index];
      if (frame !== undefined) {
        client.socket.off("message", onMessage);
        resolve(frame);
      }
    };
    client.socket.on("message", onMessage);
    void client.closed.then((c) => reject(new Error(`closed with ${c.code} before frame ${index}`)));
  });
};

export interface ManualInitiator extends RawClient {
  readonly result: HandshakeResult;
  readonly sealer: FrameSealer;
  readonly opener: FrameOpener;
  /** The raw Hello and Finish frames this initiator sent. */
  readonly hello: Uint8Array;
  readonly finish: Uint8Array;
}

/** Runs the real initiator handshake by hand, leaving frame crafting to the test. */
export const handshakeByHand = async (
  url: string,
  identity: IdentityKeyPair,
  pinnedResponderKey: Uint8Array,
  clock: Clock,
  versions: VersionRange = SUPPORTED_VERSIONS,
): Promise<ManualInitiator> => {
  const sodium = await loadSodium();
  const client = await connectRaw(url);
  const handshake = new InitiatorHandshake(sodium, identity, pinnedResponderKey, versions);
  const hello = handshake.hello();
  client.socket.send(hello);
  const { finish, result } = handshake.onHelloReply(await nextFrame(client, 0));
  client.socket.send(finish);
  const opener = new FrameOpener(sodium, result.receiveKey, 2 * 1024 * 1024);
  opener.open(await nextFrame(client, 1)); // the responder's Accept
  const sealer = new FrameSealer(sodium, result.sendKey, clock);
  return { ...client, result, sealer, opener, hello, finish };
};
