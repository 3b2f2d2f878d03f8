// A scanner's device agent: its credentials on disk (the only thing it keeps), the connection
// machine, and the current region link for the flows. Flows ask for `online()`; after a dropped
// connection the machine reconnects with backoff and the flows' retries use the new link.
import { createActor, fromPromise, type Actor, type InspectionEvent } from "xstate";
import { systemClock, type Clock } from "../core/clock.ts";
import { createDeviceCredentials, loadDeviceCredentials, saveDeviceCredentials, type DeviceCredentials } from "./device-credentials.ts";
import { deviceAgentMachine } from "./device-agent-machine.ts";
import { DeviceModeMismatch, type DeviceMode } from "./device-mode.ts";
import { RegionLink, RegionUnavailable } from "./region-link.ts";
import type { WireMessage } from "../protocol/index.ts";

export interface DeviceAgentOptions {
  readonly deviceName: string;
  /** Where the device keeps its key and the pinned region: nothing else is ever written here. */
  readonly stateDir: string;
  /** Needed when the device has no credentials yet. */
  readonly region?: { readonly url: string; readonly identityPublicKey: Uint8Array };
  readonly provisioningCode?: string;
  /** Sets (and keeps in device.json) what the device is for; absent keeps the mode it has. */
  readonly mode?: DeviceMode;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly requestTimeoutMs?: number;
  readonly inspect?: (event: InspectionEvent) => void;
  /** Sees every message the device sends (before encryption). */
  readonly tap?: (message: WireMessage) => void;
  /** The CA (PEM) that signed a wss:// region's TLS certificate, when the system does not trust it. */
  readonly tlsCa?: string | Buffer;
}

export class DeviceAgent {
  readonly actor: Actor<typeof deviceAgentMachine>;
  readonly deviceName: string;
  readonly #clock: Clock;
  readonly #inspect: ((event: InspectionEvent) => void) | undefined;
  readonly #stateDir: string;
  #credentials: DeviceCredentials | undefined;
  #mode: DeviceMode | undefined;

  constructor(options: DeviceAgentOptions) {
    this.deviceName = options.deviceName;
    this.#stateDir = options.stateDir;
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    this.#inspect = options.inspect;
    this.#credentials = loadDeviceCredentials(options.stateDir);
    this.#mode = options.mode ?? this.#credentials?.mode;
    if (this.#credentials !== undefined && this.#credentials.mode !== this.#mode) {
      this.#credentials = { ...this.#credentials, mode: this.#mode! };
      saveDeviceCredentials(options.stateDir, this.#credentials);
    }
    const machine = deviceAgentMachine.provide({
      actors: {
        connect: fromPromise(async ({ input }) => {
          let credentials = this.#credentials;
          if (credentials === undefined) {
            if (options.region === undefined) throw new RegionUnavailable({ reason: "no region configured" });
            credentials = await createDeviceCredentials({
              regionUrl: options.region.url,
              pinnedRegionKey: options.region.identityPublicKey,
              deviceName: options.deviceName,
              ...(this.#mode !== undefined ? { mode: this.#mode } : {}),
            });
            saveDeviceCredentials(options.stateDir, credentials);
            this.#credentials = credentials;
          }
          return RegionLink.connect({
            credentials,
            clock,
            ...(input.provisioningCode !== undefined ? { provisioningCode: input.provisioningCode } : {}),
            ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
            ...(options.tap !== undefined ? { tap: options.tap } : {}),
            ...(options.tlsCa !== undefined ? { tlsCa: options.tlsCa } : {}),
          });
        }),
        heartbeat: fromPromise(async ({ input }) => (input.link as RegionLink).heartbeat()),
        linkClosed: fromPromise(async ({ input }) => {
          const { code, reason } = await (input.link as RegionLink).closed;
          return { code, reason };
        }),
      },
    });
    this.actor = createActor(machine, {
      input: {
        provisioned: this.#credentials !== undefined,
        ...(this.#mode !== undefined ? { mode: this.#mode } : {}),
        ...(options.provisioningCode !== undefined ? { provisioningCode: options.provisioningCode } : {}),
        random: options.random ?? Math.random,
      },
      clock: { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) },
      systemId: options.deviceName,
      ...(options.inspect !== undefined ? { inspect: options.inspect } : {}),
    });
    this.actor.start();
  }

  /** The current link once online; rejects if the device is revoked, stopped or unprovisioned. */
  online(): Promise<RegionLink> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = this.actor.getSnapshot();
        const link = s.context.link as RegionLink | undefined;
        if (s.matches("online") && link?.isOpen === true) return (resolve(link), true);
        if (s.matches("revoked") || s.matches("stopped") || s.matches("unprovisioned")) {
          return (reject(new RegionUnavailable({ reason: `device is ${String(s.value)}${s.context.lastError ? `: ${s.context.lastError}` : ""}` })), true);
        }
        return false;
      };
      if (check()) return;
      const sub = this.actor.subscribe(() => {
        if (check()) sub.unsubscribe();
      });
    });
  }

  /** One line for a status display: connection state and last heartbeat. */
  status(): string {
    const s = this.actor.getSnapshot();
    const state = typeof s.value === "string" ? s.value : (Object.keys(s.value)[0] ?? "?");
    return state === "online" && s.context.heartbeatRttMs !== undefined ? `online (${s.context.heartbeatRttMs} ms)` : state;
  }

  /** What the device is set up for; undefined on a device nobody has set a mode on. */
  get mode(): DeviceMode | undefined {
    return this.#mode;
  }

  /** Sets the device's mode: written to device.json (when it has one yet) and shown in its snapshot. */
  setMode(mode: DeviceMode): void {
    this.#mode = mode;
    if (this.#credentials !== undefined && this.#credentials.mode !== mode) {
      this.#credentials = { ...this.#credentials, mode };
      saveDeviceCredentials(this.#stateDir, this.#credentials);
    }
    this.actor.send({ type: "SET_MODE", mode });
  }

  /**
   * Called by a flow binding before it runs: a device set up for another flow refuses with
   * DeviceModeMismatch. A device with no mode set runs any flow.
   */
  requireMode(wanted: DeviceMode): void {
    if (this.#mode !== undefined && this.#mode !== wanted) throw new DeviceModeMismatch({ deviceName: this.deviceName, mode: this.#mode, wanted });
  }

  /**
   * createActor options for one of this device's flows: the device's clock (timeouts stay
   * injectable), a name the inspector shows, and the inspector itself when one is attached.
   */
  flowActorOptions(flow: string) {
    return { clock: this.#clock, systemId: `${this.deviceName}/${flow}`, ...(this.#inspect !== undefined ? { inspect: this.#inspect } : {}) };
  }

  get clock(): Clock {
    return this.#clock;
  }

  stop(): void {
    if (this.actor.getSnapshot().status === "active") this.actor.send({ type: "SHUTDOWN" });
    this.actor.stop();
  }
}
