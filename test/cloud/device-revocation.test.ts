// Revoking a scanner takes effect at once: its live session closes with DeviceRevoked, and it
// cannot come back, while other scanners carry on.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
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

const OPERATOR_TOKEN = "operator-secret";

const startNode = async () => {
  const node = await startRegionNode({
    regionId: "t",
    dataDir: tempDir(),
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock: systemClock,
    log: () => {},
    operatorToken: OPERATOR_TOKEN,
  });
  cleanups.push(() => node.close());
  return node;
};

const connect = async (node: Awaited<ReturnType<typeof startNode>>, name: string) => {
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: name });
  const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode({ roles: ["checkout"], merchantId: "palmline-store" }) });
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

test("an operator revokes a scanner through the operator API, and its live session closes at once", async () => {
  const node = await startNode();
  const { link } = await connect(node, "lane-1");
  const revoke = (token: string | undefined, deviceId: string) =>
    fetch(`${node.httpUrl}/api/devices/${deviceId}/revoke`, { method: "POST", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  expect((await revoke(undefined, link.deviceId)).status).toBe(401);
  expect(link.isOpen).toBe(true);
  expect((await revoke(OPERATOR_TOKEN, "dev_unknown")).status).toBe(404);
  const answer = await revoke(OPERATOR_TOKEN, link.deviceId);
  expect([answer.status, await answer.json()]).toEqual([200, { revoked: link.deviceId }]);
  expect((await link.closed).code).toBe(CloseCode.DeviceRevoked);
});

test("palmline device revoke revokes a scanner on a running node with the operator token from the environment", async () => {
  const node = await startNode();
  const { link } = await connect(node, "lane-1");
  const revokeDevice = (token: string | undefined) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const env = { ...process.env, PALMLINE_OPERATOR_TOKEN: token };
      if (token === undefined) delete env.PALMLINE_OPERATOR_TOKEN;
      execFile(
        process.execPath,
        [fileURLToPath(new URL("../../cli/main.ts", import.meta.url)), "device", "revoke", "--node", node.httpUrl, "--device", link.deviceId],
        { env },
        (error, _stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number), stderr }),
      );
    });
  const refused = await revokeDevice(undefined);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("PALMLINE_OPERATOR_TOKEN");
  expect(link.isOpen).toBe(true);
  expect((await revokeDevice(OPERATOR_TOKEN)).code).toBe(0);
  expect((await link.closed).code).toBe(CloseCode.DeviceRevoked);
}, 60_000);
