// Checkout end to end over real sockets: palm -> region -> processor simulator -> receipt.
import { afterAll, beforeAll, expect, test } from "vitest";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { CheckoutLane } from "../../edge/flows/checkout-lane.ts";
import type { WireMessage } from "../../protocol/index.ts";
import { hand, startStore, TEST_PANS, type Store } from "./store-harness.ts";

let store: Store;
const ALICE = 11;
const DECLINED_DAN = 12;
const STRANGER = 13_001;
let aliceId: string;

beforeAll(async () => {
  store = await startStore();
  aliceId = await store.enrollDirect(ALICE, TEST_PANS.visa, "LOY-ALICE-7");
  await store.enrollDirect(DECLINED_DAN, TEST_PANS.declined);
}, 120_000);
afterAll(() => store?.close());

const lane = async (name: string, merchantId = "palmline-store", merchantKind: "first-party" | "third-party" = "first-party", tap?: (m: WireMessage) => void) => {
  const { agent } = await store.device(name, undefined, undefined, tap);
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
  const charge = (await store.charges()).find((c) => c.authorizationId === result.handoff?.authorizationId);
  expect(charge).toMatchObject({ state: "captured", amountMinor: 1299, merchantId: "palmline-store" });
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
  // The merchant redeems it with its own amount at the processor; a second use is refused.
  const redeem = () =>
    fetch(`${store.processor.url}/v1/merchant-credentials/redeem`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, merchantId: "m_corner_cafe", amountMinor: 4321, currency: "EUR" }),
    });
  expect((await redeem()).status).toBe(201);
  expect((await redeem()).status).toBe(409);
  const other = await fetch(`${store.processor.url}/v1/merchant-credentials/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, merchantId: "m_someone_else", amountMinor: 1, currency: "EUR" }),
  });
  expect(other.status).toBe(403);
  expect(store.logs.join("\n")).not.toContain("4321");
  // Everything the lane sent, field by field: a credential request and nothing carrying the amount.
  const sent = JSON.stringify(wire, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v));
  expect(wire.map((m) => m.type)).toContain("payment.credential.request");
  expect(sent).not.toContain("4321");
  expect(sent).not.toMatch(/amount|basket/i);
  l.stop();
});

test("the region records which identity paid where", async () => {
  expect(store.node.flows.ledger.openTransactions(aliceId)).toBe(0);
});
