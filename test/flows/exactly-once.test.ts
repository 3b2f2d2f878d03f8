// Exactly-once payments under a crash, with real processes: the processor simulator and the
// region node each run as their own process; the node is killed (SIGKILL) while the processor
// is still working on an authorization, restarted on the same data and port, and the lane's
// retry with the same idempotency key ends in exactly one charge. Several rounds over.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { DeviceAgent } from "../../edge/device-agent.ts";
import { CheckoutLane } from "../../edge/flows/checkout-lane.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { CardVaultClient } from "../../edge/payments/card-vault-client.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { issueProvisioningCode, repoRoot, startRegionProcess, type RegionProcess } from "../support/region-process.ts";
import { hand, TEST_PANS } from "./store-harness.ts";
import { tempDir } from "../cloud/fixtures.ts";

const ROUNDS = 3;
const startProcessorProcess = () => {
  const child = spawn(process.execPath, [join(repoRoot, "cloud/payments/run-processor-simulator.ts")], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise<{ url: string; stop: () => void }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("{")) resolve({ url: (JSON.parse(line) as { url: string }).url, stop: () => child.kill("SIGTERM") });
    });
    child.once("exit", (code) => reject(new Error(`processor exited ${code}`)));
  });
};

let processor: { url: string; stop: () => void };
let region: RegionProcess;
let extractor: SignatureExtractor;
let agent: DeviceAgent;
const dataDir = tempDir("palmline-exactly-once-");
const outputs: string[][] = [];

const json = async (path: string, body?: unknown) => {
  const response = await fetch(
    `${processor.url}${path}`,
    body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
  );
  return (await response.json()) as Record<string, unknown>;
};

beforeAll(async () => {
  processor = await startProcessorProcess();
  region = await startRegionProcess(dataDir, ["--processor", processor.url]);
  outputs.push(region.output);
  extractor = await SignatureExtractor.load();
  agent = new DeviceAgent({
    deviceName: "lane-crash",
    stateDir: tempDir("palmline-device-"),
    region: { url: region.url, identityPublicKey: region.identityPublicKey },
    provisioningCode: issueProvisioningCode(dataDir, ["--role", "enrollment-kiosk,checkout", "--merchant", "palmline-store"]),
  });
  const link = await agent.online();
  const sensor = new SimulatedPalmSensor({ seed: 7 });
  sensor.present(hand(701));
  const sealed = [];
  const to = await link.captureSeal();
  for (let i = 0; i < 4; i++) sealed.push(await captureSealedSignature(sensor, extractor, to));
  const card = await new CardVaultClient(processor.url).vault({ pan: TEST_PANS.visa, expiryMonth: 10, expiryYear: 2032 });
  const enrolled = await link.enroll(sealed, {
    card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
  });
  expect(enrolled.outcome).toBe("enrolled");
}, 120_000);

afterAll(async () => {
  agent?.stop();
  await extractor?.close();
  region?.child.kill("SIGTERM");
  await region?.exited;
  processor?.stop();
});

test(`a node killed mid-authorization charges exactly once after recovery (${ROUNDS} rounds)`, async () => {
  const port = new URL(region.url).port;
  const sensor = new SimulatedPalmSensor({ seed: 8 });
  const lane = new CheckoutLane({ agent, sensor, extractor, display: new SimulatedDisplay(), merchantId: "palmline-store", merchantKind: "first-party" });
  for (let round = 1; round <= ROUNDS; round++) {
    const amountMinor = 10_000 + round;
    // The processor holds the request long enough for the node to die before it answers.
    await json("/v1/faults", { latencyMs: 700 });
    const received = Number((await json("/v1/stats")).received);
    lane.begin(amountMinor, "EUR");
    sensor.present(hand(701));
    const shown = lane.presentHand();
    while (Number((await json("/v1/stats")).received) === received) await new Promise((r) => setTimeout(r, 5));
    region.child.kill("SIGKILL");
    await region.exited;
    await json("/v1/faults", { latencyMs: 0 });
    region = await startRegionProcess(dataDir, ["--processor", processor.url, "--port", port]);
    outputs.push(region.output);

    expect((await shown).kind).toBe("approved");
    // The receipt shows on approval; the capture follows while it is on the display.
    const result = await lane.settled();
    expect(result.kind, result.text).toBe("approved");
    const charges = ((await json("/v1/authorizations")).authorizations as { amountMinor: number; state: string }[]).filter(
      (a) => a.amountMinor === amountMinor,
    );
    expect(charges).toHaveLength(1);
    expect(charges[0]!.state).toBe("captured");
    // The restarted node found the attempt in its ledger and re-drove it with the same key.
    expect(region.output.join("\n")).toContain("re-driving an attempt left in flight");
  }
  lane.stop();
}, 120_000);

test("no card number reaches the region's database files or its logs", () => {
  const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  for (const f of files) {
    const bytes = readFileSync(join(f.parentPath, f.name));
    for (const pan of Object.values(TEST_PANS)) expect(bytes.includes(Buffer.from(pan)), `${f.name} holds ${pan}`).toBe(false);
  }
  const logs = outputs.flat().join("\n");
  for (const pan of Object.values(TEST_PANS)) expect(logs).not.toContain(pan);
});
