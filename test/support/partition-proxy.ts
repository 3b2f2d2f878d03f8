// A network link between two regions that a test can cut and heal: a TCP relay on loopback.
// A region is told the proxy's address as its peer; every byte of the link (the HTTP key lookup,
// the WebSocket, the secure channel) passes through it. Cutting destroys the live connections
// both ways (what a partition does to open sockets) and refuses new ones until healed, so the
// regions see exactly what a real partition shows them: resets and failed connects.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface PartitionProxy {
  /** The address peers dial: ws://127.0.0.1:<proxy port>. */
  readonly url: string;
  readonly port: number;
  /** Where the relay forwards to; may be set (or changed, after a restart) at any time. */
  retarget(port: number): void;
  /** Destroys every live connection through the proxy and refuses new ones. */
  cut(): void;
  /** Accepts and relays connections again. */
  heal(): void;
  readonly isCut: boolean;
  /** Connections relayed since the proxy started (a link that reconnected shows here). */
  readonly connectionsAccepted: number;
  close(): Promise<void>;
}

export const startPartitionProxy = async (targetPort?: number): Promise<PartitionProxy> => {
  let target = targetPort;
  let cut = false;
  let accepted = 0;
  const live = new Set<Socket>();
  const track = (socket: Socket) => {
    live.add(socket);
    socket.once("close", () => live.delete(socket));
    // A reset is the expected end of a cut link; nothing to report.
    socket.on("error", () => {});
  };
  const server: Server = createServer((inbound) => {
    track(inbound);
    if (cut || target === undefined) {
      inbound.destroy();
      return;
    }
    accepted++;
    inbound.pause();
    const outbound = connect({ host: "127.0.0.1", port: target });
    track(outbound);
    outbound.once("connect", () => {
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      inbound.resume();
    });
    // Either end closing closes the other: a half-dead relay would look like a silent link.
    inbound.once("close", () => outbound.destroy());
    outbound.once("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("partition proxy: no TCP address");
  const destroyLive = () => {
    for (const socket of live) socket.destroy();
    live.clear();
  };
  return {
    url: `ws://127.0.0.1:${address.port}`,
    port: address.port,
    retarget(port) {
      target = port;
      // Connections to the old target are dead ends now (a restarted region listens elsewhere).
      destroyLive();
    },
    cut() {
      cut = true;
      destroyLive();
    },
    heal() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    get connectionsAccepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        destroyLive();
        server.close(() => resolve());
      }),
  };
};
