// A scanner's connection to its region, as an XState machine:
//
//   booting --credentials--> connecting --ok--> online (heartbeats) --link lost / no ack--> offline
//      |                        |   ^                                                        |
//      | none                   |   +------------- backoff with jitter ----------------------+
//      v                        | not provisioned / refused
//   unprovisioned --PROVISION-->+---------------> unprovisioned | revoked <-- closed with DeviceRevoked
//
// The link itself is held in context (it is a socket, nothing personal). Connecting, heartbeats
// and the wait for the link to drop are injected promise actors. Revocation is read from the
// close code the region ended the session with (a typed field), never from an error's text.
import { assign, fromPromise, setup } from "xstate";
import { CloseCode, closeCodeName, isChannelError } from "../protocol/index.ts";
import type { DeviceMode } from "./device-mode.ts";
import { ProvisioningRefused, RegionRefused } from "./region-link.ts";

export interface ConnectedLink {
  readonly deviceId: string;
  close(): void;
}

export interface DeviceAgentContext<L extends ConnectedLink = ConnectedLink> {
  readonly provisioningCode: string | undefined;
  readonly link: L | undefined;
  /** Consecutive failed connection attempts: the backoff grows with it. */
  readonly attempts: number;
  readonly lastError: string | undefined;
  readonly heartbeatRttMs: number | undefined;
  readonly provisioned: boolean;
  /** What the device is set up for (kept in its device.json); shown in snapshots and the inspector. */
  readonly mode: DeviceMode | undefined;
  /** Jitter source, injected so tests are deterministic. */
  readonly random: () => number;
}

/** How a session ended: the WebSocket close code and its reason. */
export interface LinkClosure {
  readonly code: number;
  readonly reason: string;
}

export type DeviceAgentEvent = { type: "PROVISION"; code: string } | { type: "SET_MODE"; mode: DeviceMode } | { type: "SHUTDOWN" };

export const HEARTBEAT_INTERVAL_MS = 10_000;
export const CONNECT_TIMEOUT_MS = 10_000;
export const BACKOFF_BASE_MS = 250;
export const BACKOFF_MAX_MS = 30_000;

/** Exponential backoff with "equal jitter": half fixed, half random, so a fleet spreads out. */
export const backoffDelay = (attempts: number, random: () => number) => {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
};

/** The close code a failed connection ended with; undefined when it never got a session (network, timeout). */
const closeCodeOf = (error: unknown): number | undefined => (isChannelError(error) ? error.closeCode : undefined);
const isRevocation = (closeCode: number | undefined) => closeCode === CloseCode.DeviceRevoked;
const isProvisioningRefusal = (error: unknown) => error instanceof ProvisioningRefused || (error instanceof RegionRefused && error.code === "NotProvisioned");
const describeClosure = (closure: LinkClosure) =>
  `link closed with ${closeCodeName(closure.code) ?? closure.code}${closure.reason ? `: ${closure.reason}` : ""}`;
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const deviceAgentMachine = setup({
  types: {
    context: {} as DeviceAgentContext,
    events: {} as DeviceAgentEvent,
    input: {} as { provisioned: boolean; provisioningCode?: string; mode?: DeviceMode; random: () => number },
  },
  actors: {
    connect: fromPromise<ConnectedLink, { provisioningCode: string | undefined }>(async () => {
      throw new Error("connect must be provided");
    }),
    heartbeat: fromPromise<number, { link: ConnectedLink }>(async () => {
      throw new Error("heartbeat must be provided");
    }),
    linkClosed: fromPromise<LinkClosure, { link: ConnectedLink }>(async () => {
      throw new Error("linkClosed must be provided");
    }),
  },
  delays: {
    heartbeatInterval: HEARTBEAT_INTERVAL_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    backoff: ({ context }) => backoffDelay(context.attempts, context.random),
  },
  actions: {
    closeLink: ({ context }) => context.link?.close(),
  },
}).createMachine({
  id: "deviceAgent",
  context: ({ input }) => ({
    provisioningCode: input.provisioningCode,
    link: undefined,
    attempts: 0,
    lastError: undefined,
    heartbeatRttMs: undefined,
    provisioned: input.provisioned,
    mode: input.mode,
    random: input.random,
  }),
  initial: "booting",
  states: {
    booting: {
      always: [
        { guard: ({ context }) => context.provisioningCode !== undefined, target: "connecting" },
        { guard: ({ context }) => context.provisioned, target: "connecting" },
        { target: "unprovisioned" },
      ],
    },
    unprovisioned: {
      on: { PROVISION: { target: "connecting", actions: assign({ provisioningCode: ({ event }) => event.code }) } },
    },
    connecting: {
      invoke: {
        src: "connect",
        input: ({ context }) => ({ provisioningCode: context.provisioningCode }),
        onDone: {
          target: "online",
          actions: assign({ link: ({ event }) => event.output, attempts: 0, lastError: undefined, provisioningCode: undefined, provisioned: true }),
        },
        onError: [
          {
            guard: ({ event }) => isProvisioningRefusal(event.error),
            target: "unprovisioned",
            actions: assign({ lastError: ({ event }) => errorText(event.error), provisioningCode: undefined }),
          },
          {
            guard: ({ event }) => isRevocation(closeCodeOf(event.error)),
            target: "revoked",
            actions: assign({ lastError: ({ event }) => errorText(event.error) }),
          },
          { target: "offline", actions: assign({ lastError: ({ event }) => errorText(event.error), attempts: ({ context }) => context.attempts + 1 }) },
        ],
      },
      after: { connectTimeout: { target: "offline", actions: assign({ lastError: "connection timed out", attempts: ({ context }) => context.attempts + 1 }) } },
    },
    online: {
      invoke: {
        src: "linkClosed",
        input: ({ context }) => ({ link: context.link! }),
        onDone: [
          // Revoked while online: the region closes the live session with DeviceRevoked; redialling would only be refused.
          {
            guard: ({ event }) => isRevocation(event.output.code),
            target: "revoked",
            actions: assign({ lastError: ({ event }) => describeClosure(event.output) }),
          },
          { target: "offline", actions: assign({ lastError: ({ event }) => describeClosure(event.output), attempts: 1 }) },
        ],
      },
      exit: ["closeLink", assign({ link: undefined })],
      initial: "waiting",
      states: {
        waiting: { after: { heartbeatInterval: "beating" } },
        beating: {
          invoke: {
            src: "heartbeat",
            input: ({ context }) => ({ link: context.link! }),
            onDone: { target: "waiting", actions: assign({ heartbeatRttMs: ({ event }) => event.output }) },
            onError: { target: "#deviceAgent.offline", actions: assign({ lastError: "heartbeat not acknowledged", attempts: 1 }) },
          },
        },
      },
    },
    offline: {
      after: { backoff: "connecting" },
    },
    revoked: { type: "final" },
    stopped: { type: "final" },
  },
  on: {
    SHUTDOWN: { target: ".stopped" },
    // The agent has already written the new mode to device.json; the machine only shows it.
    SET_MODE: { actions: assign({ mode: ({ event }) => event.mode }) },
  },
});
