// A deletion waits for the person's open payments in every region, not only the one where it
// was asked. Two real regions in this process (SQLite, shards, libsodium, WebSockets on port 0),
// each on the other's federation list, one real processor simulator over HTTP, each region with its own
// simulated SMS gateway, and devices over real WebSockets presenting synthetic palms.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { DELETION_MESSAGES } from "../../cloud/lifecycle/deletion-acknowledgement.ts";
import { startSimulatedRegion, type SimulatedRegionOptions } from "../../cli/simulated-region.ts";
import { startProcessorSimulator, type ProcessorSimulator } from "../../cloud/payments/processor-simulator.ts";
import type { RegionLink } from "../../edge/region-link.ts";
import { sealForOneRequest, sealForRequest, syntheticPalm } from "../cloud/fixtures.ts";
import { federatedPair } from "../support/federation-lists.ts";
import { waitUntil } from "../support/wait-until.ts";

const STORE = "palmline-store";
const PHONE = "+4915112349876";
const PALM = 61;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const startRegion = async (regionId: string, processor: ProcessorSimulator, extra: SimulatedRegionOptions) => {
  const region = await startSimulatedRegion({ regionId, processor, shardCount: 1, firstPartyMerchants: [STORE], antiEntropyEveryMs: 600_000, ...extra });
  cleanups.push(() => region.close());
  const { node, sms, logs } = region;

  let devices = 0;
  /** A provisioned device with a live session to this region. */
  const device = () => region.link(`${regionId}-${++devices}`);
  let captures = 0;
  const palm = (link: RegionLink) => sealForOneRequest(link, syntheticPalm(PALM)(++captures + 10));

  const identify = async () => {
    const link = await device();
    const result = await link.identify(await palm(link));
    link.close();
    return result.outcome === "match" ? result.identityId : undefined;
  };

  let keys = 0;
  const authorize = async (lane: RegionLink) =>
    lane.authorize({
      idempotencyKey: `${regionId}-checkout-${++keys}`,
      merchantId: STORE,
      amount: { amountMinor: 1_250, currency: "EUR" },
      sealedSignature: await palm(lane),
    });

  /** The person confirms deletion at a service point of this region. */
  const requestDeletion = async () => {
    const point = await device();
    const answer = await point.requestDeletion(await palm(point));
    point.close();
    return answer;
  };

  /** What the privacy portal of this region shows the person, signed in with their phone. */
  const portalView = async () => {
    await fetch(`${node.httpUrl}/portal/api/code`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ phone: PHONE }) });
    const session = await fetch(`${node.httpUrl}/portal/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phone: PHONE, code: sms.lastCodeFor(PHONE) }),
    });
    const cookie = session.headers.get("set-cookie")!.split(";")[0]!;
    return (await (await fetch(`${node.httpUrl}/portal/api/me`, { headers: { cookie } })).json()) as { deletionPending: boolean };
  };

  const acknowledgements = () => sms.outbox.filter((m) => m.number === PHONE && m.text === DELETION_MESSAGES.requested);

  return { node, sms, logs, vaultCard: region.vaultCard, device, palm, identify, authorize, requestDeletion, portalView, acknowledgements };
};

type Region = Awaited<ReturnType<typeof startRegion>>;

let a: Region;
let b: Region;
let identityId: string;

/** B listening, A dialling it; the person enrolled in A (card and phone) and known in B. */
beforeEach(async () => {
  const processor = await startProcessorSimulator();
  cleanups.push(() => processor.close());
  const pair = await federatedPair("b", "a");
  b = await startRegion("b", processor, pair.listener);
  a = await startRegion("a", processor, pair.dialler(b.node.url));

  const kiosk = await a.device();
  const card = await a.vaultCard("4242424242424242");
  await kiosk.verifyPhone(PHONE);
  const sealed = await sealForRequest(kiosk, ...[0, 1, 2, 3].map((capture) => syntheticPalm(PALM)(capture)));
  const enrolled = await kiosk.enroll(sealed, {
    card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
    phone: { number: PHONE, verificationCode: a.sms.lastCodeFor(PHONE)! },
  });
  kiosk.close();
  if (enrolled.outcome !== "enrolled" || enrolled.identityId === undefined) throw new Error(`enrollment failed: ${enrolled.outcome}`);
  identityId = enrolled.identityId;
  await waitUntil(() => b.identify());
}, 60_000);

/** An approved payment at a lane of B, once A has heard of it. */
const openPaymentInB = async () => {
  const lane = await b.device();
  const auth = await b.authorize(lane);
  expect(auth.outcome).toBe("approved");
  await waitUntil(() => a.node.flows.deletions.openTransactions(identityId) === 1 || undefined);
  return { lane, authorizationId: auth.authorizationId! };
};

const deletedEverywhere = async () => {
  await waitUntil(async () => ((await a.identify()) === undefined && (await b.identify()) === undefined) || undefined);
  await waitUntil(() => a.node.replication.status().digest === b.node.replication.status().digest || undefined);
  await Promise.all([a.node.flows.deletions.idle(), b.node.flows.deletions.idle()]);
};

describe("a deletion waits for open payments in every region", () => {
  test("asked in A while B holds an open payment, it stays pending in both regions", async () => {
    await openPaymentInB();
    expect(await a.requestDeletion()).toMatchObject({ outcome: "pending", identityId, openTransactions: 1 });
    await waitUntil(() => b.node.flows.deletions.isPending(identityId) || undefined);
    expect((await b.portalView()).deletionPending).toBe(true);
    expect((await a.portalView()).deletionPending).toBe(true);
    expect(await a.identify()).toBe(identityId);
    expect(await b.identify()).toBe(identityId);
    expect(a.acknowledgements()).toHaveLength(0);
  });

  test("capturing B's payment completes it: the palm is unidentifiable in both and the person is told once", async () => {
    const { lane, authorizationId } = await openPaymentInB();
    await a.requestDeletion();
    await waitUntil(() => b.node.flows.deletions.isPending(identityId) || undefined);
    expect((await lane.settle({ authorizationId, action: "capture" })).outcome).toBe("captured");
    await deletedEverywhere();
    expect(a.node.replication.status()).toMatchObject({ live: 0, tombstones: 1 });
    expect(b.node.replication.status()).toMatchObject({ live: 0, tombstones: 1 });
    expect([...a.acknowledgements(), ...b.acknowledgements()]).toHaveLength(1);
    expect(a.acknowledgements()).toHaveLength(1);
  });

  test("voiding B's payment completes it as well", async () => {
    const { lane, authorizationId } = await openPaymentInB();
    await a.requestDeletion();
    expect((await lane.settle({ authorizationId, action: "void" })).outcome).toBe("voided");
    await deletedEverywhere();
    expect([...a.acknowledgements(), ...b.acknowledgements()]).toHaveLength(1);
  });

  test("with no payment open in any region, the deletion is immediate and reaches B", async () => {
    const lane = await b.device();
    const auth = await b.authorize(lane);
    await lane.settle({ authorizationId: auth.authorizationId!, action: "capture" });
    await waitUntil(() => a.node.replication.status().digest === b.node.replication.status().digest || undefined);
    expect(await a.requestDeletion()).toMatchObject({ outcome: "deleted", identityId });
    await deletedEverywhere();
    expect(a.acknowledgements()).toHaveLength(1);
    expect(b.acknowledgements()).toHaveLength(0);
  });

  test("while the deletion is pending, B refuses a new authorization for the person", async () => {
    const { lane } = await openPaymentInB();
    await a.requestDeletion();
    await waitUntil(() => b.node.flows.deletions.isPending(identityId) || undefined);
    expect(await b.authorize(lane)).toMatchObject({ outcome: "failed", reason: expect.stringContaining("deletion requested") });
    expect(b.node.flows.ledger.openTransactions(identityId)).toBe(1);
  });
});
