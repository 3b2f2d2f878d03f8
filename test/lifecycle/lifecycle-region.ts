// A real region for lifecycle tests, on simulated time: the simulated region (cli/simulated-region.ts)
// with one shard and a ManualClock, the SMS gateway's outbox for what people are told, and bare
// device links presenting synthetic palms (sealed to the region like a scanner's), which spares
// the extractor. Years pass with clock.advance(), never by waiting.
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { startSimulatedRegion } from "../../cli/simulated-region.ts";
import type { ProcessorSimulator } from "../../cloud/payments/processor-simulator.ts";
import { ManualClock, systemClock } from "../../core/clock.ts";
import type { RegionLink } from "../../edge/region-link.ts";
import { sealForOneRequest, sealForRequest, syntheticPalm } from "../cloud/fixtures.ts";

/** A fixed start, so tests read in calendar terms: 1 March 2030, noon UTC. */
export const START_MS = Date.UTC(2030, 2, 1, 12);
export const DAY_MS = 24 * 60 * 60 * 1000;
export const STORE = "palmline-store";

export type LifecycleRegion = Awaited<ReturnType<typeof startLifecycleRegion>>;

export const startLifecycleRegion = async (
  options: {
    clock?: ManualClock;
    dataDir?: string;
    processor?: ProcessorSimulator;
    regionId?: string;
    /** Joins a federation: the region's federation list (test/support/federation-lists.ts). */
    federation?: { readonly membersFile: string };
  } = {},
) => {
  const clock = options.clock ?? new ManualClock(START_MS);
  const region = await startSimulatedRegion({
    regionId: options.regionId ?? "lifecycle",
    shardCount: 1,
    clock,
    firstPartyMerchants: [STORE],
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.processor !== undefined ? { processor: options.processor } : {}),
    // The links' polls and redials on real time: years pass on `clock` in one advance().
    ...(options.federation !== undefined ? { federationMembersFile: options.federation.membersFile, replicationTimers: systemClock } : {}),
  });

  /** One capture sealed for one request on the link. */
  const seal = (link: RegionLink, palmSeed: number, capture: number) => sealForOneRequest(link, syntheticPalm(palmSeed)(capture));

  /** Enrolls a person (synthetic palm `palmSeed`) with a card and, if given, a verified phone. */
  const enroll = async (palmSeed: number, phone?: string): Promise<string> => {
    const link = await region.link(`kiosk-${palmSeed}`);
    const sealed = await sealForRequest(link, ...[0, 1, 2, 3].map((capture) => syntheticPalm(palmSeed)(capture)));
    const card = await region.vaultCard("4242424242424242");
    let verified: { number: string; verificationCode: string } | undefined;
    if (phone !== undefined) {
      await link.verifyPhone(phone);
      verified = { number: phone, verificationCode: region.sms.lastCodeFor(phone)! };
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
    const db = new DatabaseSync(join(region.dataDir, "registry.sqlite"), { readOnly: true });
    try {
      return db.prepare("SELECT deleted_hlc AS deleted, last_seen_ms AS lastSeen FROM identities WHERE identity_id = ?").get(identityId) as
        | { deleted: string | null; lastSeen: number }
        | undefined;
    } finally {
      db.close();
    }
  };

  const api = async (method: string, path: string, body: unknown = {}) => {
    const response = await fetch(`${region.node.httpUrl}${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${region.node.operatorToken}` },
      body: method === "GET" ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** Messages the simulated SMS gateway delivered to a number. */
  const messagesTo = (phone: string) => region.sms.outbox.filter((m) => m.number === phone).map((m) => m.text);

  return { ...region, clock, seal, enroll, row, api, messagesTo };
};
