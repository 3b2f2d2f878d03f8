// Device modes: what a device is for is kept in its device.json, shown in its agent's snapshot,
// and enforced by the flow bindings: a device set up as a gate will not run a checkout.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { DeviceAgent } from "../../edge/device-agent.ts";
import { createDeviceCredentials, loadDeviceCredentials, saveDeviceCredentials } from "../../edge/device-credentials.ts";
import { DeviceModeMismatch, InvalidDeviceMode, parseDeviceMode } from "../../edge/device-mode.ts";
import { CheckoutLane } from "../../edge/flows/checkout-lane.ts";
import { GateLane } from "../../edge/flows/gate-lane.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedGateRelay } from "../../hardware/gate-relay.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";

let extractor: SignatureExtractor;
const agents: DeviceAgent[] = [];
beforeAll(async () => {
  extractor = await SignatureExtractor.load();
});
afterAll(async () => {
  for (const a of agents) a.stop();
  await extractor?.close();
});

/** A provisioned device whose region is unreachable: modes are the device's own business. */
const provisionedDevice = async (mode?: "checkout" | "gate") => {
  const stateDir = mkdtempSync(join(tmpdir(), "palmline-mode-"));
  const credentials = await createDeviceCredentials({ regionUrl: "ws://127.0.0.1:9", pinnedRegionKey: new Uint8Array(32), deviceName: "turnstile-3" });
  saveDeviceCredentials(stateDir, credentials);
  const agent = new DeviceAgent({ deviceName: "turnstile-3", stateDir, clock: new ManualClock(0), ...(mode !== undefined ? { mode } : {}) });
  agents.push(agent);
  return { agent, stateDir };
};

const checkoutLane = (agent: DeviceAgent) =>
  new CheckoutLane({
    agent,
    sensor: new SimulatedPalmSensor({ seed: 1 }),
    extractor,
    display: new SimulatedDisplay(),
    merchantId: "palmline-store",
    merchantKind: "first-party",
  });

test("a device's mode is written to its device.json and kept across restarts", async () => {
  const { agent, stateDir } = await provisionedDevice("gate");
  expect(loadDeviceCredentials(stateDir)?.mode).toBe("gate");
  agent.stop();
  const again = new DeviceAgent({ deviceName: "turnstile-3", stateDir, clock: new ManualClock(0) });
  agents.push(again);
  expect(again.mode).toBe("gate");
});

test("the mode is in the device agent's snapshot, which the inspector shows", async () => {
  const { agent } = await provisionedDevice("gate");
  expect(agent.actor.getSnapshot().context.mode).toBe("gate");
  agent.setMode("checkout");
  expect(agent.actor.getSnapshot().context.mode).toBe("checkout");
});

test("a device in gate mode refuses to run a checkout flow with DeviceModeMismatch", async () => {
  const { agent } = await provisionedDevice("gate");
  const refused = (() => {
    try {
      checkoutLane(agent);
    } catch (error) {
      return error;
    }
  })();
  expect(refused).toBeInstanceOf(DeviceModeMismatch);
  expect((refused as DeviceModeMismatch).message).toBe("device turnstile-3 is in gate mode and cannot run a checkout flow");
  const gate = new GateLane({
    agent,
    sensor: new SimulatedPalmSensor({ seed: 2 }),
    extractor,
    relay: new SimulatedGateRelay(),
    display: new SimulatedDisplay(),
    venueId: "stadium",
    gateId: "g3",
  });
  gate.stop();
});

test("a lane whose device is switched to another mode refuses the next checkout", async () => {
  const { agent, stateDir } = await provisionedDevice("checkout");
  const lane = checkoutLane(agent);
  agent.setMode("gate");
  expect(() => lane.begin(100, "EUR")).toThrow(DeviceModeMismatch);
  expect(lane.actor.getSnapshot().value).toBe("idle");
  expect(loadDeviceCredentials(stateDir)?.mode).toBe("gate");
  lane.stop();
});

test("a device nobody set a mode on runs any flow", async () => {
  const { agent } = await provisionedDevice();
  expect(agent.mode).toBeUndefined();
  checkoutLane(agent).stop();
});

test("a mode the device does not know is dropped from device.json, and refused on the command line", async () => {
  const { stateDir } = await provisionedDevice("gate");
  const path = join(stateDir, "device.json");
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, "utf8")), mode: "vending-machine" }));
  expect(loadDeviceCredentials(stateDir)?.mode).toBeUndefined();
  expect(() => parseDeviceMode("vending-machine")).toThrow(InvalidDeviceMode);
  expect(parseDeviceMode("enrollment-kiosk")).toBe("enrollment-kiosk");
});
