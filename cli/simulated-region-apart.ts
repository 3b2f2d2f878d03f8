// A simulated region the way a store runs one: the region node in a process of its own
// (simulated-region-node.ts), the payment processor simulator in another (processor-process.ts),
// and the devices in this one (simulated-region.ts's simulatedDevices), so the node's time is not
// the simulation's. One-time codes are issued as `palmline provision-code` issues them, in the
// region's database; the codes the node texts arrive as lines on its output.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimulatedSmsGateway } from "../cloud/phone/phone-verifier.ts";
import { DeviceDirectory } from "../cloud/storage/sqlite/device-directory.ts";
import { openRegistryDatabase } from "../cloud/storage/sqlite/registry-database.ts";
import { startListeningChild, startProcessorProcess } from "./processor-process.ts";
import { simulatedDevices } from "./simulated-region.ts";

/**
 * The code last texted to `number`: the node's output can trail its answer on the link by a
 * moment, so a code not there yet is waited for (up to 2 s).
 */
const textedCode = async (sms: SimulatedSmsGateway, number: string): Promise<string | undefined> => {
  for (let waited = 0; ; waited += 10) {
    const code = sms.lastCodeFor(number);
    if (code !== undefined || waited >= 2_000) return code;
    await new Promise((r) => setTimeout(r, 10));
  }
};

export const startSimulatedRegionApart = async (options: { regionId?: string; extractorPerDevice?: boolean } = {}) => {
  const regionId = options.regionId ?? "site";
  const scratch = mkdtempSync(join(tmpdir(), `palmline-${regionId}-`));
  const dataDir = join(scratch, "region");
  mkdirSync(dataDir, { mode: 0o700 });
  const sms = new SimulatedSmsGateway();
  const processor = await startProcessorProcess();
  const node = await startListeningChild<{ url: string; httpUrl: string; identityPublicKey: string }>(
    join(import.meta.dirname, "simulated-region-node.ts"),
    ["--data", dataDir, "--processor", processor.url, "--region", regionId],
    { onEvent: (e) => (e.event === "sms" ? void sms.send(String(e.number), String(e.text)) : undefined) },
  ).catch(async (error: unknown) => {
    await processor.stop();
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  });
  const db = openRegistryDatabase(dataDir);
  const directory = new DeviceDirectory(db);
  const endpoint = {
    url: node.listening.url,
    httpUrl: node.listening.httpUrl,
    identityPublicKey: new Uint8Array(Buffer.from(node.listening.identityPublicKey, "base64")),
    issueProvisioningCode: (binding: Parameters<DeviceDirectory["issueProvisioningCode"]>[0]) => directory.issueProvisioningCode(binding, Date.now()),
  };
  const devices = await simulatedDevices({
    endpoint,
    processorUrl: processor.url,
    sms: { codeFor: (number) => textedCode(sms, number) },
    scratch,
    ...(options.extractorPerDevice !== undefined ? { extractorPerDevice: options.extractorPerDevice } : {}),
  });
  const close = async () => {
    await devices.close();
    db.close();
    await node.stop();
    await processor.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  return { ...devices, regionId, endpoint, processorUrl: processor.url, pids: { node: node.child.pid, processor: processor.child.pid }, sms, dataDir, close };
};

export type SimulatedRegionApart = Awaited<ReturnType<typeof startSimulatedRegionApart>>;
