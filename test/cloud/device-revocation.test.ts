// Revoking a scanner takes effect at once: its live session closes with DeviceRevoked, and it
// cannot come back, while other scanners carry on.
import { afterEach, expect, test } from "vitest";
import { startRegionNode } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import type { DeviceId } from "../../core/ids.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { CloseCode } from "../../protocol/index.ts";
import { tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const startNode = async () => {
  const node = await startRegionNode({ regionId: "t", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 1, clock: systemClock, log: () => {} });
  cleanups.push(() => node.close());
  return node;
};

const connect = async (node: Awaited<ReturnType<typeof startNode>>, name: string) => {
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: name });
  const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode() });
  cleanups.push(() => link.close());
  return { link, credentials };
};

test("a revoked device's live session closes at once with DeviceRevoked", async () => {
  const node = await startNode();
  const { link } = await connect(node, "lane-1");
  expect(node.revokeDevice(link.deviceId as DeviceId)).toBe(true);
  expect((await link.closed).code).toBe(CloseCode.DeviceRevoked);
});

test("a revoked device is refused when it connects again", async () => {
  const node = await startNode();
  const { link, credentials } = await connect(node, "lane-1");
  node.revokeDevice(link.deviceId as DeviceId);
  await link.closed;
  await expect(RegionLink.connect({ credentials })).rejects.toMatchObject({ closeCode: CloseCode.DeviceRevoked });
});

test("revoking one device leaves the others' sessions open", async () => {
  const node = await startNode();
  const revoked = await connect(node, "lane-1");
  const other = await connect(node, "lane-2");
  node.revokeDevice(revoked.link.deviceId as DeviceId);
  await revoked.link.closed;
  expect(other.link.isOpen).toBe(true);
});
