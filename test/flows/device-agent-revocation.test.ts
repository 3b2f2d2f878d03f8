// A revoked scanner stops: a real device agent, dialling a real region node over a real WebSocket
// and secure channel, ends in `revoked` whether the region revokes it while it is online or before
// it dials, and then never dials again. Every connection to the region passes through a TCP relay
// that counts them; the agent's backoff runs on a manual clock, so "never again" is checked over a
// long stretch of its time without waiting for it.
import { connect } from "node:net";
import { afterEach, expect, test } from "vitest";
import { startRegionNode, type RegionNodeHandle } from "../../cloud/region-node.ts";
import { ManualClock, systemClock } from "../../core/clock.ts";
import type { DeviceId } from "../../core/ids.ts";
import { DeviceAgent } from "../../edge/device-agent.ts";
import { BACKOFF_MAX_MS } from "../../edge/device-agent-machine.ts";
import { tempDir } from "../cloud/fixtures.ts";
import { startPartitionProxy, type PartitionProxy } from "../support/partition-proxy.ts";
import { waitUntil } from "../support/wait-until.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A region node behind a relay that counts every connection made to it. */
const startRegion = async () => {
  const node = await startRegionNode({ regionId: "t", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 1, clock: systemClock, log: () => {} });
  cleanups.push(() => node.close());
  const relay = await startPartitionProxy(Number(new URL(node.url).port));
  cleanups.push(() => relay.close());
  return { node, relay };
};

const LANE = { roles: ["checkout" as const], merchantId: "palmline-store" };

const startAgent = (node: RegionNodeHandle, relay: PartitionProxy, stateDir: string, clock: ManualClock, provisioningCode?: string) => {
  const agent = new DeviceAgent({
    deviceName: "lane-1",
    stateDir,
    clock,
    random: () => 0.5,
    region: { url: relay.url, identityPublicKey: node.identityPublicKey },
    ...(provisioningCode !== undefined ? { provisioningCode } : {}),
  });
  cleanups.push(() => agent.stop());
  return agent;
};

const reached = (agent: DeviceAgent, state: "online" | "revoked") => waitUntil(() => agent.actor.getSnapshot().matches(state));

/**
 * Counts the agent's dials at the relay, once every dial already started has reached it: the
 * relay accepts in arrival order, so a probe connection made now is counted only after all of
 * those. The probes themselves are taken off the count.
 */
const dialCounter = (relay: PartitionProxy) => {
  let probes = 0;
  return async () => {
    const before = relay.connectionsAccepted;
    const probe = connect({ host: "127.0.0.1", port: relay.port });
    probe.on("error", () => {});
    await new Promise<void>((resolve) => probe.once("connect", () => resolve()));
    const after = await waitUntil(() => (relay.connectionsAccepted > before ? relay.connectionsAccepted : undefined));
    probe.destroy();
    probes++;
    return after - probes;
  };
};

/** Runs the agent's clock through many maximal backoffs, letting each timer's work start. */
const letBackoffsElapse = async (clock: ManualClock) => {
  for (let i = 0; i < 10; i++) {
    clock.advance(BACKOFF_MAX_MS);
    await new Promise((resolve) => setImmediate(resolve));
  }
};

test("a device revoked while online ends in revoked and stops dialling", async () => {
  const { node, relay } = await startRegion();
  const clock = new ManualClock(Date.now());
  const agent = startAgent(node, relay, tempDir("palmline-device-"), clock, node.issueProvisioningCode(LANE));
  await reached(agent, "online");
  const deviceId = agent.actor.getSnapshot().context.link!.deviceId as DeviceId;

  const dials = dialCounter(relay);

  node.revokeDevice(deviceId);
  await reached(agent, "revoked");
  const dialsAtRevocation = await dials();
  await letBackoffsElapse(clock);

  expect(dialsAtRevocation).toBe(1);
  expect(await dials()).toBe(dialsAtRevocation);
  expect(agent.actor.getSnapshot().status).toBe("done");
  await expect(agent.online()).rejects.toMatchObject({ reason: expect.stringMatching(/^device is revoked/) });
});

test("a device revoked before it dials is refused once, ends in revoked and never dials again", async () => {
  const { node, relay } = await startRegion();
  const clock = new ManualClock(Date.now());
  const stateDir = tempDir("palmline-device-");
  const first = startAgent(node, relay, stateDir, clock, node.issueProvisioningCode(LANE));
  await reached(first, "online");
  const deviceId = first.actor.getSnapshot().context.link!.deviceId as DeviceId;
  first.stop();
  node.revokeDevice(deviceId);
  const dials = dialCounter(relay);
  const dialsBefore = await dials();

  const restarted = startAgent(node, relay, stateDir, clock);
  await reached(restarted, "revoked");
  await letBackoffsElapse(clock);

  expect(await dials()).toBe(dialsBefore + 1);
  expect(restarted.actor.getSnapshot().status).toBe("done");
});
