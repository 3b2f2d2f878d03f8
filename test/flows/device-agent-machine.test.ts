// The device agent's connection machine with injected connect/heartbeat actors and a manual
// clock: backoff with jitter, heartbeats, provisioning states. No sockets, no real time.
import { expect, test } from "vitest";
import { createActor, fromPromise } from "xstate";
import { ManualClock } from "../../core/clock.ts";
import {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  backoffDelay,
  deviceAgentMachine,
  HEARTBEAT_INTERVAL_MS,
  type ConnectedLink,
  type LinkClosure,
} from "../../edge/device-agent-machine.ts";
import { ProvisioningRefused } from "../../edge/region-link.ts";
import { CloseCode, ConnectionClosed } from "../../protocol/index.ts";

const flush = () => new Promise((r) => setImmediate(r));

const start = (options: {
  provisioned?: boolean;
  code?: string;
  connect: (attempt: number) => Promise<ConnectedLink>;
  heartbeat?: () => Promise<number>;
  random?: () => number;
}) => {
  const clock = new ManualClock(0);
  let attempts = 0;
  let dropLink: (closure: LinkClosure) => void = () => {};
  const machine = deviceAgentMachine.provide({
    actors: {
      connect: fromPromise(async () => options.connect(++attempts)),
      heartbeat: fromPromise(async () => (options.heartbeat ?? (async () => 3))()),
      linkClosed: fromPromise(() => new Promise<LinkClosure>((resolve) => (dropLink = resolve))),
    },
  });
  const actor = createActor(machine, {
    input: {
      provisioned: options.provisioned ?? true,
      ...(options.code !== undefined ? { provisioningCode: options.code } : {}),
      random: options.random ?? (() => 0.5),
    },
    clock: { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) },
  }).start();
  return { actor, clock, attempts: () => attempts, drop: (closure: LinkClosure = { code: 1006, reason: "" }) => dropLink(closure) };
};

const link = (): ConnectedLink => ({ deviceId: "dev_x", close: () => {} });
const state = (actor: { getSnapshot(): { value: unknown } }) => JSON.stringify(actor.getSnapshot().value);

test("a device without credentials waits for a provisioning code, then connects with it", async () => {
  const { actor } = start({ provisioned: false, connect: async () => link() });
  expect(state(actor)).toBe('"unprovisioned"');
  actor.send({ type: "PROVISION", code: "123456" });
  await flush();
  expect(actor.getSnapshot().matches("online")).toBe(true);
});

test("a failed connection backs off exponentially with jitter and retries", async () => {
  const { actor, clock, attempts } = start({ connect: async () => Promise.reject(new Error("refused")) });
  await flush();
  expect(state(actor)).toBe('"offline"');
  expect(attempts()).toBe(1);
  clock.advance(backoffDelay(1, () => 0.5) - 1);
  expect(attempts()).toBe(1);
  clock.advance(1);
  await flush();
  expect(attempts()).toBe(2);
  expect(backoffDelay(1, () => 0)).toBe(BACKOFF_BASE_MS / 2);
  expect(backoffDelay(1, () => 1)).toBe(BACKOFF_BASE_MS);
  expect(backoffDelay(3, () => 0.5)).toBe(Math.round(BACKOFF_BASE_MS * 4 * 0.75));
  expect(backoffDelay(50, () => 1)).toBe(BACKOFF_MAX_MS);
});

test("an online device sends heartbeats and goes offline when one is not acknowledged", async () => {
  let acked = true;
  const { actor, clock } = start({ connect: async () => link(), heartbeat: async () => (acked ? 4 : Promise.reject(new Error("no ack"))) });
  await flush();
  clock.advance(HEARTBEAT_INTERVAL_MS);
  await flush();
  expect(actor.getSnapshot().context.heartbeatRttMs).toBe(4);
  acked = false;
  clock.advance(HEARTBEAT_INTERVAL_MS);
  await flush();
  expect(state(actor)).toBe('"offline"');
});

test("a dropped link sends the device offline, and it reconnects after the backoff", async () => {
  const { actor, clock, attempts, drop } = start({ connect: async () => link() });
  await flush();
  drop();
  await flush();
  expect(state(actor)).toBe('"offline"');
  clock.advance(BACKOFF_BASE_MS);
  await flush();
  expect(attempts()).toBe(2);
  expect(actor.getSnapshot().matches("online")).toBe(true);
});

test("a refused provisioning code returns the device to unprovisioned", async () => {
  const { actor } = start({ provisioned: false, code: "000000", connect: async () => Promise.reject(new ProvisioningRefused({ reason: "unknown code" })) });
  await flush();
  expect(state(actor)).toBe('"unprovisioned"');
});

test("connecting never waits forever", async () => {
  const { actor, clock } = start({ connect: () => new Promise<ConnectedLink>(() => {}) });
  clock.advance(10_000);
  expect(state(actor)).toBe('"offline"');
});

test("a session the region closes with DeviceRevoked ends the machine in revoked, with no redial", async () => {
  const { actor, clock, attempts, drop } = start({ connect: async () => link() });
  await flush();
  drop({ code: CloseCode.DeviceRevoked, reason: "device revoked" });
  await flush();
  expect(state(actor)).toBe('"revoked"');
  clock.advance(BACKOFF_MAX_MS * 10);
  await flush();
  expect(attempts()).toBe(1);
});

test("a handshake the region refuses with DeviceRevoked ends the machine in revoked, with no redial", async () => {
  const { actor, clock, attempts } = start({
    connect: async () => Promise.reject(new ConnectionClosed({ closeCode: CloseCode.DeviceRevoked, reason: "device revoked" })),
  });
  await flush();
  expect(state(actor)).toBe('"revoked"');
  clock.advance(BACKOFF_MAX_MS * 10);
  await flush();
  expect(attempts()).toBe(1);
});

test("revocation is read from the close code, not from an error's text", async () => {
  const { actor } = start({ connect: async () => Promise.reject(new Error("connection closed with 4201: device revoked (4201 device revoked)")) });
  await flush();
  expect(state(actor)).toBe('"offline"');
});
