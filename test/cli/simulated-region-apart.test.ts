// `palmline store`'s region the way a store runs one: the node and the processor simulator in
// processes of their own, the devices here (cli/simulated-region-apart.ts).
import { afterAll, beforeAll, expect, test } from "vitest";
import { startSimulatedRegionApart, type SimulatedRegionApart } from "../../cli/simulated-region-apart.ts";
import { waitUntil } from "../support/wait-until.ts";

let region: SimulatedRegionApart;
beforeAll(async () => {
  region = await startSimulatedRegionApart({ regionId: "apart" });
}, 60_000);
afterAll(() => region?.close());

test("the node and the processor simulator run in processes apart from the devices", () => {
  expect(region.pids.node).toBeDefined();
  expect(region.pids.processor).toBeDefined();
  expect(new Set([region.pids.node, region.pids.processor, process.pid]).size).toBe(3);
});

test("a device provisioned with a code from the region's database sets up a session with the node", async () => {
  const link = await region.link("lane-1", { binding: { roles: ["checkout"] } });
  expect(link.deviceId).not.toBe("");
  expect(await link.heartbeat()).toBeGreaterThanOrEqual(0);
});

test("a code the node texts reaches the simulated person's inbox", async () => {
  const link = await region.link("kiosk-1", { binding: { roles: ["enrollment-kiosk"] } });
  const number = "+491510000042";
  await link.verifyPhone(number);
  // The text comes over the node's output, which may trail the answer on the link.
  expect(await waitUntil(() => region.sms.lastCodeFor(number), 2_000)).toMatch(/^[0-9]{6}$/);
});
