// A region node is a real process here: enrollments made before it stops (cleanly or by kill -9)
// are identified after it starts again over the same data directory.
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { createDeviceCredentials, type DeviceCredentials } from "../../edge/device-credentials.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { ScannerAgent } from "../../edge/scanner-agent.ts";
import type { ScannerMode } from "../../edge/scanner-agent-machine.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { tempDir } from "./fixtures.ts";
import { issueProvisioningCode, startRegionProcess, type RegionProcess } from "../support/region-process.ts";

let extractor: SignatureExtractor;
const running: RegionProcess[] = [];
const open: { link: RegionLink; agent: ScannerAgent }[] = [];

beforeAll(async () => {
  extractor = await SignatureExtractor.load();
});

afterEach(async () => {
  for (const { link, agent } of open.splice(0)) {
    agent.stop();
    link.close();
  }
  for (const region of running.splice(0)) {
    region.child.kill("SIGKILL");
    await region.exited;
  }
});

const start = async (dataDir: string) => {
  const region = await startRegionProcess(dataDir);
  running.push(region);
  return region;
};

const scanner = async (credentials: DeviceCredentials, url: string, mode: ScannerMode, sensorSeed: number, provisioningCode?: string) => {
  const link = await RegionLink.connect({ credentials: { ...credentials, regionUrl: url }, ...(provisioningCode !== undefined ? { provisioningCode } : {}) });
  const sensor = new SimulatedPalmSensor({ seed: sensorSeed });
  const agent = new ScannerAgent({ name: `scanner-${sensorSeed}`, mode, sensor, extractor, link });
  open.push({ link, agent });
  return async (subjectSeed: number) => {
    sensor.present({ subjectSeed, side: "right" });
    const outcome = await agent.presentHand();
    sensor.present(undefined);
    agent.withdrawHand();
    return outcome;
  };
};

const stopped = async (region: RegionProcess, signal: NodeJS.Signals) => {
  region.child.kill(signal);
  const code = await region.exited;
  running.splice(running.indexOf(region), 1);
  return code;
};

describe("a region node restarted over the same data directory", () => {
  test("still identifies palms enrolled before a clean stop", async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const credentials = await createDeviceCredentials({ regionUrl: first.url, pinnedRegionKey: first.identityPublicKey, deviceName: "kiosk" });
    const enroll = await scanner(credentials, first.url, "enrollment", 11, issueProvisioningCode(dataDir));
    const enrolled = new Map<number, string>();
    for (const person of [1, 2, 3]) {
      const outcome = await enroll(person);
      expect(outcome.kind).toBe("enrolled");
      if (outcome.kind === "enrolled") enrolled.set(person, outcome.identityId);
    }
    for (const s of open.splice(0)) s.link.close();
    expect(await stopped(first, "SIGTERM")).toBe(0);

    const second = await start(dataDir);
    expect(second.identityPublicKey).toEqual(first.identityPublicKey);
    // Same device key: it is already provisioned, so no code this time.
    const identify = await scanner(credentials, second.url, "identification", 22);
    for (const [person, identityId] of enrolled) expect(await identify(person)).toMatchObject({ kind: "identified", identityId });
    expect((await identify(999)).kind).toBe("not-identified");
  });

  test("keeps an enrollment acknowledged just before kill -9", async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const credentials = await createDeviceCredentials({ regionUrl: first.url, pinnedRegionKey: first.identityPublicKey, deviceName: "kiosk" });
    const enroll = await scanner(credentials, first.url, "enrollment", 33, issueProvisioningCode(dataDir));
    const outcome = await enroll(7);
    expect(outcome.kind).toBe("enrolled");
    for (const s of open.splice(0)) s.link.close();
    expect(await stopped(first, "SIGKILL")).toBe("SIGKILL");

    const second = await start(dataDir);
    const identify = await scanner(credentials, second.url, "identification", 44);
    expect(await identify(7)).toMatchObject({ kind: "identified", identityId: outcome.kind === "enrolled" ? outcome.identityId : "" });
  });
});
