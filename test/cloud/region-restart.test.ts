// A region node is a real process here: enrollments made before it stops (cleanly or by kill -9)
// are identified after it starts again over the same data directory.
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { PalmScanner } from "../../cli/palm-scanner.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { DeviceAgent } from "../../edge/device-agent.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { tempDir } from "./fixtures.ts";
import { issueProvisioningCode, startRegionProcess, type RegionProcess } from "../support/region-process.ts";

/** A desk scanner: it enrolls people and identifies them. */
const ENROLS_AND_IDENTIFIES = ["--role", "enrollment-kiosk,service-point"];

let extractor: SignatureExtractor;
const running: RegionProcess[] = [];
const open: PalmScanner[] = [];

beforeAll(async () => {
  extractor = await SignatureExtractor.load();
});

afterEach(async () => {
  for (const scanner of open.splice(0)) scanner.stop();
  for (const region of running.splice(0)) {
    region.child.kill("SIGKILL");
    await region.exited;
  }
});

/** `port` 0 the first time; a restarted region keeps its address, as its devices expect. */
const start = async (dataDir: string, port = 0) => {
  const region = await startRegionProcess(dataDir, [], port);
  running.push(region);
  return region;
};

/** A scanner whose key lives in `stateDir`: the first one there is provisioned with a code, later ones are already known. */
const scanner = (region: RegionProcess, stateDir: string, sensorSeed: number, provisioningCode?: string) => {
  const agent = new DeviceAgent({
    deviceName: "kiosk",
    stateDir,
    region: { url: region.url, identityPublicKey: region.identityPublicKey },
    ...(provisioningCode !== undefined ? { provisioningCode } : {}),
  });
  const s = new PalmScanner({ agent, sensor: new SimulatedPalmSensor({ seed: sensorSeed }), extractor });
  open.push(s);
  return s;
};

const stopped = async (region: RegionProcess, signal: NodeJS.Signals) => {
  region.child.kill(signal);
  const code = await region.exited;
  running.splice(running.indexOf(region), 1);
  return code;
};

const portOf = (region: RegionProcess) => Number(new URL(region.url).port);

describe("a region node restarted over the same data directory", () => {
  test("still identifies palms enrolled before a clean stop", async () => {
    const dataDir = tempDir();
    const stateDir = tempDir("palmline-device-");
    const first = await start(dataDir);
    const kiosk = scanner(first, stateDir, 11, issueProvisioningCode(dataDir, ENROLS_AND_IDENTIFIES));
    const enrolled = new Map<number, string>();
    for (const person of [1, 2, 3]) {
      const outcome = await kiosk.enroll(person);
      expect(outcome.kind).toBe("enrolled");
      if (outcome.kind === "enrolled") enrolled.set(person, outcome.identityId);
    }
    for (const s of open.splice(0)) s.stop();
    expect(await stopped(first, "SIGTERM")).toBe(0);

    const second = await start(dataDir, portOf(first));
    expect(second.identityPublicKey).toEqual(first.identityPublicKey);
    // Same device key: it is already provisioned, so no code this time.
    const lane = scanner(second, stateDir, 22);
    for (const [person, identityId] of enrolled) expect(await lane.identify(person)).toMatchObject({ kind: "identified", identityId });
    expect((await lane.identify(999)).kind).toBe("not-identified");
  });

  test("keeps an enrollment acknowledged just before kill -9", async () => {
    const dataDir = tempDir();
    const stateDir = tempDir("palmline-device-");
    const first = await start(dataDir);
    const outcome = await scanner(first, stateDir, 33, issueProvisioningCode(dataDir, ENROLS_AND_IDENTIFIES)).enroll(7);
    expect(outcome.kind).toBe("enrolled");
    for (const s of open.splice(0)) s.stop();
    expect(await stopped(first, "SIGKILL")).toBe("SIGKILL");

    const second = await start(dataDir, portOf(first));
    const lane = scanner(second, stateDir, 44);
    expect(await lane.identify(7)).toMatchObject({ kind: "identified", identityId: outcome.kind === "enrolled" ? outcome.identityId : "" });
  });
});
