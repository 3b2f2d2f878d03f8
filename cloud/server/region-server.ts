// The region's network face: one HTTP server for /healthz and /region (the public identity a
// device or a peer region pins), upgraded to WebSocket for device sessions (any path but
// /replication) and for links from peer regions (/replication). Every WebSocket goes through the
// secure channel before any message reaches a handler; there is no plaintext path. With a
// certificate and key the same port speaks TLS (https and wss) for all of it: the channel inside
// stays as it is, TLS hides the metadata and guards the HTTP surfaces.
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import {
  acceptResponderChannel,
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  PeerRateLimits,
  PeerSessions,
  PROTOCOL_VERSION,
  type IdentityKeyPair,
  type PeerAdmission,
  type SecureChannel,
} from "../../protocol/index.ts";
import type { Clock } from "../../core/clock.ts";
import type { DeviceId } from "../../core/ids.ts";
import type { DeviceDirectory } from "../storage/sqlite/device-directory.ts";
import { HttpRouter, HttpRoutes, json } from "../../http/http-router.ts";
import { runDeviceSession, type DeviceSession, type DeviceSessionDependencies } from "../session/device-session.ts";

/**
 * ws cuts off anything above maxPayload with its own close code, before the secure channel sees
 * it. One byte more than the channel's frame limit lets an oversized frame reach the channel,
 * which closes with the protocol's named OversizedFrame code instead.
 */
const WEBSOCKET_MAX_PAYLOAD = DEFAULT_MAX_FRAME_BYTES + 1;

/** Sessions of not-yet-provisioned keys the node holds at once; more are refused at the handshake. */
export const MAX_UNPROVISIONED_SESSIONS = 32;
/** How long a not-yet-provisioned key's session may stay without provisioning. */
export const UNPROVISIONED_IDLE_MS = 30_000;

/**
 * Frames one device may send across all of its sessions: a scanner makes a few requests a
 * second at most, so reconnecting in a loop or opening parallel sessions gains nothing.
 */
export const PER_DEVICE_RATE_LIMIT = { capacity: 200, refillPerSecond: 50 } as const;

export interface RegionServerOptions extends DeviceSessionDependencies {
  readonly clock: Clock;
  readonly host: string;
  readonly port: number;
  readonly regionId: string;
  readonly identity: IdentityKeyPair;
  readonly devices: DeviceDirectory;
  readonly status: () => Record<string, unknown>;
  /** The operator's JSON API under /api/ (entitlements, loyalty cards, refunds). */
  readonly api?: HttpRoutes;
  /** Takes region links opened on the WebSocket path /replication; without it they are refused. */
  readonly replication?: { accept(channel: SecureChannel): void };
  /** More HTTP routes (portal, metrics), on the same router. */
  readonly routes?: readonly HttpRoutes[];
  /** Serves HTTP and WebSocket over TLS with this certificate (PEM, chain included) and key. */
  readonly tls?: ServerTls;
}

export interface ServerTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface RegionServer {
  readonly url: string;
  readonly httpUrl: string;
  readonly sessions: ReadonlySet<DeviceSession>;
  /** Closes every live session of the device at once; its next handshake is refused too. */
  revokeDevice(deviceId: DeviceId): number;
  close(): Promise<void>;
}

const NO_STORE = { "cache-control": "no-store" } as const;

export const startRegionServer = async (options: RegionServerOptions): Promise<RegionServer> => {
  const sessions = new Set<DeviceSession>();
  const sockets = new Set<WebSocket>();
  const channels = new PeerSessions();
  const perDevice = new PeerRateLimits(options.clock, PER_DEVICE_RATE_LIMIT);

  const router = new HttpRouter({ notFound: json(404, { error: "not found" }, NO_STORE), log: options.log });
  router.mount(
    new HttpRoutes({
      headers: NO_STORE,
      maxBodyBytes: 0,
      failure: (error, request) => {
        request.log(`${request.method} ${request.path} failed: ${error instanceof Error ? error.message : String(error)}`);
        return json(500, { error: "internal error" });
      },
    })
      .get("/healthz", () => json(200, { status: "ok", regionId: options.regionId, ...options.status() }))
      .get("/region", () =>
        json(200, {
          regionId: options.regionId,
          identityPublicKey: Buffer.from(options.identity.publicKey).toString("base64"),
          protocolVersion: PROTOCOL_VERSION,
        }),
      ),
  );
  if (options.api !== undefined) router.mount(options.api);
  for (const routes of options.routes ?? []) router.mount(routes);
  const http = options.tls !== undefined ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, router.handle) : createServer(router.handle);
  const wss = new WebSocketServer({ server: http, maxPayload: WEBSOCKET_MAX_PAYLOAD });

  /** Channels of keys the region does not know yet: each may only provision itself, a few at once, for a while. */
  const unprovisioned = new Map<SecureChannel, DeviceSession>();
  const waitingToProvision = () => [...unprovisioned.values()].filter((session) => session.deviceId === undefined).length;
  const admitPeer = (peerPublicKey: Uint8Array): PeerAdmission => {
    const standing = options.devices.standing(peerPublicKey);
    if (standing.kind === "active") return { kind: "admit" };
    if (standing.kind === "revoked") return { kind: "refuse", code: CloseCode.DeviceRevoked, reason: "device revoked" };
    // Any key may ask to provision, so their number is bounded: fresh keys cannot pile up sessions.
    if (waitingToProvision() >= MAX_UNPROVISIONED_SESSIONS)
      return { kind: "refuse", code: CloseCode.RateLimited, reason: "too many devices waiting to be provisioned" };
    return { kind: "provisioning-only" };
  };

  // Region links: the same secure channel; the handshake admits any key and the replication
  // service decides on the hello (the region id claimed must be listed with the channel's key).
  const acceptRegionLink = (socket: WebSocket) => {
    const replication = options.replication;
    acceptResponderChannel(socket, {
      identity: options.identity,
      admitPeer: () =>
        replication !== undefined ? { kind: "admit" } : { kind: "refuse", code: CloseCode.NotFederationMember, reason: "this region takes no region links" },
      clock: options.clock,
    }).then(
      (channel) => replication?.accept(channel),
      (error: unknown) => options.log(`region link refused: ${error instanceof Error ? error.message : String(error)}`),
    );
  };

  wss.on("connection", (socket, req) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    if ((req.url ?? "/").split("?")[0] === "/replication") return acceptRegionLink(socket);
    acceptResponderChannel(socket, {
      identity: options.identity,
      admitPeer,
      clock: options.clock,
      sharedRateLimits: (peer) => [perDevice.bucketFor(peer)],
    }).then(
      (channel) => {
        channels.add(channel);
        const standing = options.devices.standing(channel.peerPublicKey);
        const device = standing.kind === "active" ? { deviceId: standing.deviceId, binding: standing.binding } : undefined;
        const session = runDeviceSession(channel, channel.admission, { device, sourceAddress: req.socket.remoteAddress ?? "unknown" }, options);
        sessions.add(session);
        void channel.closed.then(() => sessions.delete(session));
        if (channel.admission.kind === "provisioning-only") {
          unprovisioned.set(channel, session);
          // Provisioning is one request: a key that has not provisioned itself by then is let go.
          const idle = options.clock.setTimeout(() => {
            if (session.deviceId === undefined) channel.close(CloseCode.NotProvisioned, `not provisioned within ${UNPROVISIONED_IDLE_MS / 1000} s`);
          }, UNPROVISIONED_IDLE_MS);
          void channel.closed.then(() => {
            unprovisioned.delete(channel);
            options.clock.clearTimeout(idle);
          });
        }
      },
      // The channel has already closed the socket with the matching close code.
      (error: unknown) => options.log(`handshake refused: ${error instanceof Error ? error.message : String(error)}`),
    );
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;

  return {
    url: `${options.tls !== undefined ? "wss" : "ws"}://${hostForUrl}:${port}`,
    httpUrl: `${options.tls !== undefined ? "https" : "http"}://${hostForUrl}:${port}`,
    sessions,
    revokeDevice(deviceId) {
      const revoked = [...sessions].filter((s) => s.deviceId === deviceId);
      for (const session of revoked) session.revoke();
      return revoked.length;
    },
    async close() {
      for (const socket of sockets) socket.close(CloseCode.ServerShutdown, "region node shutting down");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const socket of sockets) socket.terminate();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
};
