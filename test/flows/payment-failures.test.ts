// The payment saga's failure paths against the real processor simulator: a processor that does
// not answer in time (the saga reverses by key, so nothing stays charged), a processor outage
// (the lane's retry with the same key charges once), and refunds through the operator API.
import { afterAll, beforeAll, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { PROCESSOR_TIMEOUT_MS } from "../../cloud/sagas/payment-saga.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { hand, startStore, type Store } from "./store-harness.ts";

let store: Store;
const regionClock = new ManualClock(Date.now());
const PAYER = 801;

beforeAll(async () => {
  store = await startStore({ clock: regionClock });
  await store.enroll(PAYER);
}, 120_000);
afterAll(() => store?.close());

const faults = (body: Record<string, number>) =>
  fetch(`${store.processor.url}/v1/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const received = async () => Number(((await (await fetch(`${store.processor.url}/v1/stats`)).json()) as { received: number }).received);

const payer = async (name: string, merchantId?: string) => {
  const { agent } = await store.device(name, merchantId !== undefined ? { binding: { merchantId } } : {});
  const link = await agent.online();
  const sensor = new SimulatedPalmSensor({ seed: 8_000 + name.length });
  sensor.present(hand(PAYER));
  return { link, seal: async () => captureSealedSignature(sensor, store.extractor, await link.captureSeal()) };
};

test("a processor that does not answer in time: the saga reverses the authorization by its key", async () => {
  const { link, seal } = await payer("lane-timeout");
  await faults({ latencyMs: 400 });
  const before = await received();
  const answer = link.authorize({
    idempotencyKey: "timeout-0001",
    merchantId: "palmline-store",
    amount: { amountMinor: 2_500, currency: "EUR" },
    sealedSignature: await seal(),
  });
  while ((await received()) === before) await new Promise((r) => setTimeout(r, 5));
  await faults({ latencyMs: 0 });
  regionClock.advance(PROCESSOR_TIMEOUT_MS);
  const result = await answer;
  expect(result).toMatchObject({ outcome: "failed", reason: "payment processor timed out" });
  await new Promise((r) => setTimeout(r, 450)); // let the first, slow request land at the processor
  const charges = [...store.processor.authorizations.values()].filter((a) => a.amountMinor === 2_500);
  expect(charges).toHaveLength(1);
  expect(charges[0]!.state).toBe("voided");
});

test("a processor that fails after recording the charge: the saga voids it, and a retry of the key is told so", async () => {
  const { link, seal } = await payer("lane-outage");
  await faults({ failAfterRecording: 1 });
  const request = { idempotencyKey: "outage-0001", merchantId: "palmline-store", amount: { amountMinor: 3_100, currency: "EUR" } };
  const first = await link.authorize({ ...request, sealedSignature: await seal() });
  expect(first.outcome).toBe("failed");
  const retry = await link.authorize({ ...request, sealedSignature: await seal() });
  expect(retry.outcome).toBe("failed");
  const charges = [...store.processor.authorizations.values()].filter((a) => a.amountMinor === 3_100);
  expect(charges).toHaveLength(1);
  expect(charges[0]!.state).toBe("voided");
});

test("a processor down for the attempt and its reversal: the retry with the same key is charged once", async () => {
  const { link, seal } = await payer("lane-down");
  await faults({ failBefore: 2 });
  const request = { idempotencyKey: "down-0001", merchantId: "palmline-store", amount: { amountMinor: 3_200, currency: "EUR" } };
  expect((await link.authorize({ ...request, sealedSignature: await seal() })).outcome).toBe("failed");
  // Neither the attempt nor its reversal reached the processor, so the attempt stays open.
  const retry = await link.authorize({ ...request, sealedSignature: await seal() });
  expect(retry.outcome).toBe("approved");
  expect([...store.processor.authorizations.values()].filter((a) => a.amountMinor === 3_200)).toHaveLength(1);
});

test("a captured payment is refunded through the operator API, once", async () => {
  const { link, seal } = await payer("lane-refund");
  const approved = await link.authorize({
    idempotencyKey: "refund-0001",
    merchantId: "palmline-store",
    amount: { amountMinor: 4_200, currency: "EUR" },
    sealedSignature: await seal(),
  });
  expect(approved.outcome).toBe("approved");
  expect((await link.settle({ authorizationId: approved.authorizationId!, action: "capture" })).outcome).toBe("captured");
  const refund = () =>
    fetch(`${store.node.httpUrl}/api/payments/${approved.authorizationId}/refund`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${store.node.operatorToken}` },
      body: "{}",
    });
  expect((await refund()).status).toBe(200);
  expect((await refund()).status).toBe(409);
  expect(store.processor.authorizations.get(approved.authorizationId!)?.refundedMinor).toBe(4_200);
});

test("a voided authorization is released and cannot be captured afterwards", async () => {
  const { link, seal } = await payer("lane-void");
  const approved = await link.authorize({
    idempotencyKey: "void-0001",
    merchantId: "palmline-store",
    amount: { amountMinor: 5_300, currency: "EUR" },
    sealedSignature: await seal(),
  });
  expect((await link.settle({ authorizationId: approved.authorizationId!, action: "void" })).outcome).toBe("voided");
  expect((await link.settle({ authorizationId: approved.authorizationId!, action: "capture" })).outcome).toBe("failed");
});

test("a third-party merchant cannot send amounts through the region", async () => {
  const { link, seal } = await payer("lane-3p", "m_elsewhere");
  const answer = await link.authorize({
    idempotencyKey: "thirdparty-1",
    merchantId: "m_elsewhere",
    amount: { amountMinor: 100, currency: "EUR" },
    sealedSignature: await seal(),
  });
  expect(answer.outcome).toBe("failed");
  expect([...store.processor.authorizations.values()].some((a) => a.merchantId === "m_elsewhere")).toBe(false);
});

test("captured payments are settled in batches at the processor, each payment once", async () => {
  const settle = async () => (await (await fetch(`${store.processor.url}/v1/settlements`, { method: "POST" })).json()) as { count: number; totalMinor: number };
  const first = await settle();
  expect(first.count).toBeGreaterThan(0);
  expect(await settle()).toMatchObject({ count: 0, totalMinor: 0 });
});
