// A real region for lifecycle tests, on simulated time: the node (SQLite, libsodium, shards) on
// 127.0.0.1 with a ManualClock, the processor simulator over HTTP, the simulated SMS gateway's
// outbox for what people are told, and devices over real WebSockets presenting synthetic palms
// (sealed to the region like a scanner's). Years pass with clock.advance(), never by waiting.
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { startProcessorSimulator } from "../../cloud/payments/processor-simulator.ts";
import { SimulatedSmsGateway } from "../../cloud/phone/phone-verifier.ts";
import { startRegionNode } from "../../cloud/region-node.ts";
import { ManualClock, systemClock } from "../../core/clock.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { sealSignature } from "../../protocol/index.ts";
import { syntheticPalm, tempDir } from "../cloud/fixtures.ts";

/** A fixed start, so tests read in calendar terms: 1 March 2030, noon UTC. */
export const START_MS = Date.UTC(2030, 2, 1, 12);
export const DAY_MS = 24 * 60 * 60 * 1000;
export const TEST_PAN = "4242424242424242";
export const STORE = "palmline-store";

export type LifecycleRegion = Awaited<ReturnType<typeof startLifecycleRegion>>;

export const startLifecycleRegion = async (
  options: {
    clock?: ManualClock;
    dataDir?: string;
    processor?: Awaited<ReturnType<typeof startProcessorSimulator>>;
    regionId?: string;
    /** Joins a federation: the shared key, and the peers this region dials. */
    federation?: { readonly key: Uint8Array; readonly peers: readonly string[] };
  } = {},
) => {
  const clock = options.clock ?? new ManualClock(START_MS);
  const dataDir = options.dataDir ?? tempDir("palmline-lifecycle-");
  const ownProcessor = options.processor === undefined;
  const processor = options.processor ?? (await startProcessorSimulator());
  const sms = new SimulatedSmsGateway();
  const logs: string[] = [];
  const node = await startRegionNode({
    regionId: options.regionId ?? "lifecycle",
    dataDir,
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock,
    log: (line) => logs.push(line),
    processorUrl: processor.url,
    sms,
    firstPartyMerchants: [STORE],
    // The links' polls and redials on real time: years pass on `clock` in one advance().
    ...(options.federation !== undefined ? { federationKey: options.federation.key, peers: options.federation.peers, replicationTimers: systemClock } : {}),
  });
  const links: RegionLink[] = [];

  /** A provisioned device with a live session to the region. */
  const device = async (name: string) => {
    const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: name });
    const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode() });
    links.push(link);
    return link;
  };

  const seal = (link: RegionLink, palmSeed: number, capture: number) => sealSignature(syntheticPalm(palmSeed)(capture), link.templatePublicKey);

  const vaultCard = async () => {
    const response = await fetch(`${processor.url}/v1/vault/cards`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pan: TEST_PAN, expiryMonth: 12, expiryYear: 2035 }) });
    return (await response.json()) as { vaultToken: string; brand: string; last4: string; expiryMonth: number; expiryYear: number };
  };

  /** Enrolls a person (synthetic palm `palmSeed`) with a card and, if given, a verified phone. */
  const enroll = async (palmSeed: number, phone?: string): Promise<string> => {
    const link = await device(`kiosk-${palmSeed}`);
    const sealed = await Promise.all([0, 1, 2, 3].map((capture) => seal(link, palmSeed, capture)));
    const card = await vaultCard();
    let verified: { number: string; verificationCode: string } | undefined;
    if (phone !== undefined) {
      await link.verifyPhone(phone);
      verified = { number: phone, verificationCode: sms.lastCodeFor(phone)! };
    }
    const result = await link.enroll(sealed, {
      card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
      ...(verified !== undefined ? { phone: verified } : {}),
    });
    link.close();
    if (result.outcome !== "enrolled" || result.identityId === undefined) throw new Error(`enrollment failed: ${result.outcome} ${result.reason ?? ""}`);
    return result.identityId;
  };

  /** The registry as a reader outside the node sees it. */
  const row = (identityId: string) => {
    const db = new DatabaseSync(join(dataDir, "registry.sqlite"), { readOnly: true });
    try {
      return db.prepare("SELECT deleted_hlc AS deleted, last_seen_ms AS lastSeen FROM identities WHERE identity_id = ?").get(identityId) as { deleted: string | null; lastSeen: number } | undefined;
    } finally {
      db.close();
    }
  };

  const api = async (method: string, path: string, body: unknown = {}) => {
    const response = await fetch(`${node.httpUrl}${path}`, { method, headers: { "content-type": "application/json" }, body: method === "GET" ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** Messages the simulated SMS gateway delivered to a number. */
  const messagesTo = (phone: string) => sms.outbox.filter((m) => m.number === phone).map((m) => m.text);

  const close = async () => {
    for (const link of links) link.close();
    await node.close().catch(() => {}); // a test may have closed it already
    if (ownProcessor) await processor.close();
  };

  return { node, clock, dataDir, processor, sms, logs, device, seal, enroll, row, api, messagesTo, close };
};
