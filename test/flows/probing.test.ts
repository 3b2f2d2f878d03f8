// A scanner that keeps presenting palms nobody is enrolled with is rate-limited and reported.
import { afterAll, beforeAll, expect, test } from "vitest";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { hand, startStore, type Store } from "./store-harness.ts";

let store: Store;
beforeAll(async () => {
  // Two failures of burst and practically no refill, so the test does not depend on time passing.
  store = await startStore({ probeLimit: { capacity: 2, refillPerSecond: 1e-6 } });
  await store.enroll(51);
}, 120_000);
afterAll(() => store?.close());

test("a scanner presenting unknown palms is refused after its allowance, logged by name and counted on /metrics", async () => {
  const { agent } = await store.device("prober");
  const link = await agent.online();
  const sensor = new SimulatedPalmSensor({ seed: 3 });
  const probe = async (seed: number) => {
    sensor.present(hand(seed));
    return link.identify(await captureSealedSignature(sensor, store.extractor, await link.captureSeal()));
  };
  expect((await probe(15_001)).outcome).toBe("no-match");
  expect((await probe(15_002)).outcome).toBe("no-match");
  await expect(probe(15_003)).rejects.toMatchObject({ code: "ProbingLimited" });
  // Even an enrolled palm waits: the device, not the palm, is limited.
  await expect(probe(51)).rejects.toMatchObject({ code: "ProbingLimited" });
  expect(store.logs.filter((l) => l.includes(`device ${link.deviceId} rate-limited`))).toHaveLength(1);
  const metrics = await (await fetch(`${store.node.httpUrl}/metrics`)).text();
  expect(metrics).toContain(`palmline_device_probe_refusals{device="${link.deviceId}"} 2`);
  expect(metrics).toContain(`palmline_device_identification_failures{device="${link.deviceId}"} 2`);
});

test("another scanner at the same node is not limited by the prober", async () => {
  const { agent } = await store.device("honest-lane");
  const link = await agent.online();
  const sensor = new SimulatedPalmSensor({ seed: 4 });
  sensor.present(hand(51));
  expect((await link.identify(await captureSealedSignature(sensor, store.extractor, await link.captureSeal()))).outcome).toBe("match");
});
