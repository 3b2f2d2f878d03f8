// Checkout end to end over real sockets: palm -> region -> processor simulator -> receipt.
import { afterAll, beforeAll, expect, test } from "vitest";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { CheckoutLane } from "../../edge/flows/checkout-lane.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import type { WireMessage } from "../../protocol/index.ts";
import { hand, startStore, TEST_PANS, type Store } from "./store-harness.ts";

let store: Store;
const ALICE = 11;
const DECLINED_DAN = 12;
const STRANGER = 13_001;
let aliceId: string;

beforeAll(async () => {
  store = await startStore();
  aliceId = await store.enroll(ALICE, { pan: TEST_PANS.visa, loyaltyCard: "LOY-ALICE-7" });
  await store.enroll(DECLINED_DAN, { pan: TEST_PANS.declined });
}, 120_000);
afterAll(() => store?.close());

const lane = async (
  name: string,
  merchantId = "palmline-store",
  merchantKind: "first-party" | "third-party" = "first-party",
  tap?: (m: WireMessage) => void,
) => {
  const { agent } = await store.device(name, { tap, binding: { merchantId } });
  const sensor = new SimulatedPalmSensor({ seed: name.length * 31 });
  const display = new SimulatedDisplay();
  return { lane: new CheckoutLane({ agent, sensor, extractor: store.extractor, display, merchantId, merchantKind }), sensor, display, agent };
};

test("an enrolled palm pays a first-party checkout: authorized, captured, receipt with card and loyalty card", async () => {
  const { lane: l, sensor, display } = await lane("lane-1");
  l.begin(1299, "EUR");
  sensor.present(hand(ALICE));
  const result = await l.presentHand();
  expect(result.kind).toBe("approved");
  expect(result.text).toContain("12.99 EUR");
  expect(result.text).toContain("VISA ****4242");
  expect(result.text).toContain("LOY-ALICE-7");
  expect(display.history).toContain("Hold your palm over the scanner");
  expect((await l.settled()).kind).toBe("approved");
  const charge = (await store.charges()).find((c) => c.authorizationId === result.handoff?.authorizationId);
  expect(charge).toMatchObject({ state: "captured", amountMinor: 1299, merchantId: "palmline-store" });
  l.stop();
});

/** A display that notes, at the moment the receipt appears, what the processor holds for it. */
class WatchedDisplay extends SimulatedDisplay {
  readonly onReceipt: ((text: string) => void)[] = [];
  override show(text: string): void {
    if (text.startsWith("Approved") && this.current !== text) for (const f of this.onReceipt) f(text);
    super.show(text);
  }
}

test("the receipt is on the display as soon as the authorization is approved, before the capture", async () => {
  const { agent } = await store.device("lane-receipt");
  const sensor = new SimulatedPalmSensor({ seed: 77 });
  const display = new WatchedDisplay();
  const l = new CheckoutLane({ agent, sensor, extractor: store.extractor, display, merchantId: "palmline-store", merchantKind: "first-party" });
  const atReceipt: string[] = [];
  display.onReceipt.push(() => {
    for (const a of store.processor.authorizations.values()) if (a.amountMinor === 2_345) atReceipt.push(a.state);
  });
  l.begin(2_345, "EUR");
  sensor.present(hand(ALICE));
  const receipt = await l.presentHand();
  expect(receipt.text).toMatch(/^Approved 23\.45 EUR VISA \*{4}4242, loyalty LOY-ALICE-7$/);
  // Authorized and not yet captured when the person saw the receipt; captured afterwards.
  expect(atReceipt).toEqual(["authorized"]);
  expect((await l.settled()).kind).toBe("approved");
  expect([...store.processor.authorizations.values()].find((a) => a.amountMinor === 2_345)?.state).toBe("captured");
  l.stop();
});

test("a capture that fails after the receipt replaces it with the failure and releases the hold", async () => {
  const { agent } = await store.device("lane-capture-fails");
  const sensor = new SimulatedPalmSensor({ seed: 78 });
  const display = new WatchedDisplay();
  const l = new CheckoutLane({ agent, sensor, extractor: store.extractor, display, merchantId: "palmline-store", merchantKind: "first-party" });
  // The processor's next request after the receipt (the capture) fails.
  display.onReceipt.push(() => (store.processor.faults.failBefore = 1));
  l.begin(2_346, "EUR");
  sensor.present(hand(ALICE));
  expect((await l.presentHand()).kind).toBe("approved");
  const final = await l.settled();
  expect(final.kind).toBe("failed");
  expect(final.text).toMatch(/^Payment not completed: .*nothing was charged, pay another way$/);
  expect(display.current).toBe(final.text);
  expect([...store.processor.authorizations.values()].find((a) => a.amountMinor === 2_346)?.state).toBe("voided");
  expect(store.node.flows.ledger.byAuthorization(String(final.handoff?.authorizationId))?.state).toBe("voided");
  l.stop();
});

test("a declined card shows the decline and nothing is captured", async () => {
  const { lane: l, sensor } = await lane("lane-2");
  l.begin(500, "EUR");
  sensor.present(hand(DECLINED_DAN));
  const result = await l.presentHand();
  expect(result.kind).toBe("declined");
  expect(result.text).toContain("card_declined");
  l.stop();
});

test("an unknown palm is not charged", async () => {
  const before = (await store.charges()).length;
  const { lane: l, sensor } = await lane("lane-3");
  l.begin(700, "EUR");
  sensor.present(hand(STRANGER));
  const result = await l.presentHand();
  expect(result.kind).toBe("not-identified");
  expect((await store.charges()).length).toBe(before);
  l.stop();
});

test("a third-party checkout gets a merchant-bound single-use credential and the amount never reaches the region", async () => {
  const wire: WireMessage[] = [];
  const { lane: l, sensor } = await lane("kiosk-cafe", "m_corner_cafe", "third-party", (m) => wire.push(m));
  const nonce = new Uint8Array(16).fill(5);
  l.begin(4321, "EUR", nonce);
  sensor.present(hand(ALICE));
  const result = await l.presentHand();
  expect(result.kind).toBe("credential-issued");
  const token = String(result.handoff?.token);
  const merchantNonce = Buffer.from(nonce).toString("base64url");
  expect(result.handoff?.merchantNonce).toBe(merchantNonce);
  // The merchant redeems it with its own amount at the processor; a second use is refused.
  const redeem = () => redeemCredential({ token, merchantId: "m_corner_cafe", merchantNonce, amountMinor: 4321, currency: "EUR" });
  expect((await redeem()).status).toBe(201);
  expect((await redeem()).status).toBe(409);
  const other = await redeemCredential({ token, merchantId: "m_someone_else", merchantNonce, amountMinor: 1, currency: "EUR" });
  expect(other.status).toBe(403);
  expect(store.logs.join("\n")).not.toContain("4321");
  // Everything the lane sent, field by field: a credential request and nothing carrying the amount.
  const sent = JSON.stringify(wire, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v));
  expect(wire.map((m) => m.type)).toContain("payment.credential.request");
  expect(sent).not.toContain("4321");
  expect(sent).not.toMatch(/amount|basket/i);
  l.stop();
});

const redeemCredential = (body: Record<string, unknown>) =>
  fetch(`${store.processor.url}/v1/merchant-credentials/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** A bare device link with Alice's palm under its sensor: the answers it gets are the decoded wire messages. */
const payerLink = async (name: string, merchantId = "palmline-store") => {
  const { agent } = await store.device(name, { binding: { roles: ["checkout"], merchantId } });
  const link = await agent.online();
  const sensor = new SimulatedPalmSensor({ seed: 9_000 + name.length });
  sensor.present(hand(ALICE));
  return { link, seal: async () => captureSealedSignature(sensor, store.extractor, await link.captureSeal()) };
};

test("a third-party lane's answer names no payer: no identity id and no loyalty card of the operator's programme", async () => {
  const { link, seal } = await payerLink("lane-partner", "m_partner_bakery");
  const answer = await link.requestCredential({ merchantId: "m_partner_bakery", merchantNonce: new Uint8Array(16).fill(7), sealedSignature: await seal() });
  expect(answer.outcome).toBe("issued");
  const received = JSON.stringify(answer, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
  expect(received).not.toContain(aliceId);
  expect(received).not.toContain("LOY-ALICE-7");
  expect(Object.keys(answer).sort()).toEqual(["credential", "outcome", "requestId", "type"]);
  expect(Object.keys(answer.credential!).sort()).toEqual(["expiresAt", "merchantId", "merchantNonce", "token"]);
});

test("a first-party lane's receipt carries the card and the operator's loyalty card, never the identity id", async () => {
  const { link, seal } = await payerLink("lane-own");
  const answer = await link.authorize({
    idempotencyKey: "own-receipt-1",
    merchantId: "palmline-store",
    amount: { amountMinor: 150, currency: "EUR" },
    sealedSignature: await seal(),
  });
  expect(answer).toMatchObject({ outcome: "approved", cardBrand: "visa", cardLast4: "4242", loyaltyCard: "LOY-ALICE-7" });
  expect(JSON.stringify(answer)).not.toContain(aliceId);
  await link.settle({ authorizationId: answer.authorizationId!, action: "void" });
});

test("a credential is bound to its checkout's nonce: the answer echoes it, and another checkout's nonce cannot redeem it", async () => {
  const { link, seal } = await payerLink("lane-nonce", "m_partner_bakery");
  const nonce = new Uint8Array(24).fill(9);
  const answer = await link.requestCredential({ merchantId: "m_partner_bakery", merchantNonce: nonce, sealedSignature: await seal() });
  expect(answer.credential?.merchantNonce).toEqual(nonce);
  const token = new TextDecoder().decode(answer.credential!.token);
  const redeem = (merchantNonce: Uint8Array) =>
    redeemCredential({
      token,
      merchantId: "m_partner_bakery",
      merchantNonce: Buffer.from(merchantNonce).toString("base64url"),
      amountMinor: 250,
      currency: "EUR",
    });
  expect((await redeem(new Uint8Array(24).fill(8))).status).toBe(403);
  expect((await redeem(nonce)).status).toBe(201);
});

test("the region records which identity paid where", async () => {
  expect(store.node.flows.ledger.openTransactions(aliceId)).toBe(0);
});
