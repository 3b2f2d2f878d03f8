// A scanner does only what the operator bound it to at provisioning: its roles, its merchant, its
// venue. Each attack below is a genuine, provisioned device stepping outside its binding over its
// real encrypted session to a real node; the region refuses it with NotPermitted, nothing
// happens, and the session keeps answering.
import { afterEach, expect, test } from "vitest";
import { startRegionNode } from "../../cloud/region-node.ts";
import type { DeviceBinding } from "../../cloud/storage/device-binding.ts";
import { systemClock } from "../../core/clock.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { sealForOneRequest, sealForRequest, syntheticPalm, tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const startNode = async () => {
  const node = await startRegionNode({ regionId: "t", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 1, clock: systemClock, log: () => {} });
  cleanups.push(() => node.close());
  return node;
};

type Node = Awaited<ReturnType<typeof startNode>>;

const device = async (node: Node, name: string, binding: DeviceBinding) => {
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: name });
  const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode(binding) });
  cleanups.push(() => link.close());
  const palm = (seed: number, capture: number) => sealForOneRequest(link, syntheticPalm(seed)(capture));
  const palms = (seed: number, captures: number[]) => sealForRequest(link, ...captures.map((c) => syntheticPalm(seed)(c)));
  return { link, palm, palms };
};

const notPermitted = { _tag: "RegionRefused", code: "NotPermitted" };

test("a lane bound to one merchant asking to pay for another is refused, and nothing is recorded", async () => {
  const node = await startNode();
  const { link, palm } = await device(node, "lane-a", { roles: ["checkout"], merchantId: "m_store_a" });
  const request = { idempotencyKey: "pay-other-0001", merchantId: "m_store_b", amount: { amountMinor: 5_000, currency: "EUR" } };
  await expect(link.authorize({ ...request, sealedSignature: await palm(1, 0) })).rejects.toMatchObject(notPermitted);
  await expect(link.requestCredential({ merchantId: "m_store_b", merchantNonce: new Uint8Array(16), sealedSignature: await palm(1, 1) })).rejects.toMatchObject(
    notPermitted,
  );
  expect(node.flows.ledger.find(`${link.deviceId}:${request.idempotencyKey}`)).toBeUndefined();
});

test("a refused request leaves the session usable for what the device is bound to", async () => {
  const node = await startNode();
  const { link, palm } = await device(node, "lane-a", { roles: ["checkout"], merchantId: "m_store_a" });
  const request = { idempotencyKey: "pay-0000-0001", amount: { amountMinor: 100, currency: "EUR" } };
  await expect(link.authorize({ ...request, merchantId: "m_store_b", sealedSignature: await palm(1, 0) })).rejects.toMatchObject(notPermitted);
  // Its own merchant is third-party here: an answer, not a refusal.
  expect((await link.authorize({ ...request, merchantId: "m_store_a", sealedSignature: await palm(1, 1) })).outcome).toBe("failed");
});

test("a gate device cannot enroll anyone", async () => {
  const node = await startNode();
  const { link, palms } = await device(node, "gate-1", { roles: ["gate"], venueId: "stadium" });
  await expect(link.enroll(await palms(2, [0, 1, 2]))).rejects.toMatchObject(notPermitted);
  expect(node.enrolledCount()).toBe(0);
});

test("a gate device cannot open another venue's gates", async () => {
  const node = await startNode();
  const { link, palm } = await device(node, "gate-1", { roles: ["gate"], venueId: "stadium" });
  await expect(link.enterGate({ venueId: "arena", gateId: "north-1", sealedSignature: await palm(3, 0) })).rejects.toMatchObject(notPermitted);
  expect((await link.enterGate({ venueId: "stadium", gateId: "north-1", sealedSignature: await palm(3, 1) })).outcome).toBe("no-match");
});

test("a kiosk cannot take a payment or identify people", async () => {
  const node = await startNode();
  const { link, palm } = await device(node, "kiosk-1", { roles: ["enrollment-kiosk"] });
  const request = { idempotencyKey: "kiosk-pays-0001", merchantId: "palmline-store", amount: { amountMinor: 2_500, currency: "EUR" } };
  await expect(link.authorize({ ...request, sealedSignature: await palm(4, 0) })).rejects.toMatchObject(notPermitted);
  await expect(link.identify(await palm(4, 1))).rejects.toMatchObject(notPermitted);
  expect(node.flows.ledger.find(`${link.deviceId}:${request.idempotencyKey}`)).toBeUndefined();
});

test("a kiosk enrolls", async () => {
  const node = await startNode();
  const { link, palms } = await device(node, "kiosk-1", { roles: ["enrollment-kiosk"] });
  expect((await link.enroll(await palms(5, [0, 1, 2]))).outcome).toBe("enrolled");
});
