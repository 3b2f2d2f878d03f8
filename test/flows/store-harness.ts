// A real store for flow tests: the processor simulator (HTTP), a region node on 127.0.0.1 port 0
// with real SQLite, shards and libsodium, the ONNX signature extractor, simulated sensors and
// device agents that provision themselves with one-time codes over real WebSockets.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRegionNode } from "../../cloud/region-node.ts";
import { SimulatedSmsGateway } from "../../cloud/phone/phone-verifier.ts";
import { startProcessorSimulator } from "../../cloud/payments/processor-simulator.ts";
import { systemClock, type Clock } from "../../core/clock.ts";
import { SignatureExtractor } from "../../edge/biometrics/signature-extractor.ts";
import { DeviceAgent } from "../../edge/device-agent.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import type { WireMessage } from "../../protocol/index.ts";
import type { RateLimit } from "../../protocol/token-bucket.ts";
import type { IdentificationPolicy } from "../../core/identification-policy.ts";
import { SimulatedPalmSensor, type SimulatedHand } from "../../hardware/simulated-palm-sensor.ts";

export const tempDir = (prefix = "palmline-flow-") => mkdtempSync(join(tmpdir(), prefix));

/** Test PANs (Luhn-valid); 4000000000000002 is declined by the simulator. */
export const TEST_PANS = { visa: "4242424242424242", declined: "4000000000000002", mastercard: "5555555555554444" } as const;

export const hand = (subjectSeed: number): SimulatedHand => ({ subjectSeed, side: "right" });

export const startStore = async (options: { firstPartyMerchants?: readonly string[]; clock?: Clock; identificationPolicy?: IdentificationPolicy; probeLimit?: RateLimit } = {}) => {
  const processor = await startProcessorSimulator();
  const sms = new SimulatedSmsGateway();
  const logs: string[] = [];
  const dataDir = tempDir("palmline-region-");
  const node = await startRegionNode({
    regionId: "flows",
    dataDir,
    host: "127.0.0.1",
    port: 0,
    shardCount: 2,
    clock: options.clock ?? systemClock,
    log: (line) => logs.push(line),
    processorUrl: processor.url,
    sms,
    firstPartyMerchants: options.firstPartyMerchants ?? ["palmline-store"],
    ...(options.identificationPolicy !== undefined ? { identificationPolicy: options.identificationPolicy } : {}),
    ...(options.probeLimit !== undefined ? { probeLimit: options.probeLimit } : {}),
  });
  const extractor = await SignatureExtractor.load();
  const agents: DeviceAgent[] = [];

  const device = async (deviceName: string, stateDir = tempDir("palmline-device-"), clock: Clock = systemClock, tap?: (message: WireMessage) => void) => {
    const agent = new DeviceAgent({ deviceName, stateDir, clock, ...(tap !== undefined ? { tap } : {}), region: { url: node.url, identityPublicKey: node.identityPublicKey }, provisioningCode: node.issueProvisioningCode() });
    agents.push(agent);
    await agent.online();
    return { agent, stateDir };
  };

  const vaultCard = async (pan: string) => {
    const response = await fetch(`${processor.url}/v1/vault/cards`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pan, expiryMonth: 12, expiryYear: 2031 }) });
    return (await response.json()) as { vaultToken: string; brand: string; last4: string; expiryMonth: number; expiryYear: number };
  };

  /** Enrolls a simulated person straight through a link (the kiosk flow has its own tests); a phone is verified by SMS first. */
  const enrollDirect = async (subjectSeed: number, pan: string = TEST_PANS.visa, loyaltyCard?: string, phone?: string) => {
    const { agent } = await device(`enroller-${subjectSeed}`);
    const link = await agent.online();
    const sensor = new SimulatedPalmSensor({ seed: 900 + subjectSeed });
    sensor.present(hand(subjectSeed));
    const sealed: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) sealed.push(await captureSealedSignature(sensor, extractor, link.templatePublicKey));
    const card = await vaultCard(pan);
    if (phone !== undefined) await link.verifyPhone(phone);
    const result = await link.enroll(sealed, {
      ...(phone !== undefined ? { phone: { number: phone, verificationCode: sms.lastCodeFor(phone) ?? "000000" } } : {}),
      card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
      ...(loyaltyCard !== undefined ? { loyaltyCard } : {}),
    });
    agent.stop();
    if (result.outcome !== "enrolled" || result.identityId === undefined) throw new Error(`enrollment failed: ${result.outcome} ${result.reason ?? ""}`);
    return result.identityId;
  };

  const charges = async () => {
    const response = await fetch(`${processor.url}/v1/authorizations`);
    return ((await response.json()) as { authorizations: { authorizationId: string; idempotencyKey: string; state: string; amountMinor: number; merchantId: string }[] }).authorizations;
  };

  const close = async () => {
    for (const a of agents) a.stop();
    await extractor.close();
    await node.close().catch(() => {}); // a test may have closed it already
    await processor.close();
  };

  return { processor, node, sms, logs, dataDir, extractor, device, vaultCard, enrollDirect, charges, close };
};

export type Store = Awaited<ReturnType<typeof startStore>>;
