// The local payment processor's HTTP face, as ProcessorAdapter meets it: acquirer-style error
// codes, idempotent authorizations, and the faults the payment tests inject.
import { afterEach, expect, test } from "vitest";
import { startProcessorSimulator, type ProcessorSimulator } from "../../cloud/payments/processor-simulator.ts";

let processor: ProcessorSimulator | undefined;
afterEach(async () => {
  await processor?.close();
  processor = undefined;
});

const start = async () => {
  processor = await startProcessorSimulator();
  const url = processor.url;
  const call = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${url}${path}`, { method, headers: { "content-type": "application/json" }, ...(body !== undefined ? { body } : {}) });
    return { status: response.status, type: response.headers.get("content-type"), body: (await response.json()) as Record<string, unknown> };
  };
  const cardOnFile = async () => {
    const vaulted = await call("POST", "/v1/vault/cards", JSON.stringify({ pan: "4242424242424242", expiryMonth: 12, expiryYear: 2030 }));
    return (await call("POST", "/v1/payment-tokens", JSON.stringify({ vaultToken: vaulted.body.vaultToken }))).body.paymentToken as string;
  };
  return { call, cardOnFile };
};

test("answers an unknown path with not_found and a body it cannot parse with invalid_json", async () => {
  const { call } = await start();
  expect(await call("GET", "/v2/anything")).toEqual({ status: 404, type: "application/json", body: { error: "not_found" } });
  expect(await call("POST", "/v1/authorizations", "{oops")).toEqual({ status: 400, type: "application/json", body: { error: "invalid_json" } });
});

test("a body that is not a JSON object is invalid_json too", async () => {
  const { call } = await start();
  expect(await call("POST", "/v1/authorizations", "null")).toMatchObject({ status: 400, body: { error: "invalid_json" } });
});

test("one authorization per idempotency key: the retry gets the same one", async () => {
  const { call, cardOnFile } = await start();
  const request = JSON.stringify({ idempotencyKey: "order-0001", paymentToken: await cardOnFile(), merchantId: "shop", amountMinor: 1299, currency: "EUR" });
  const first = await call("POST", "/v1/authorizations", request);
  const retry = await call("POST", "/v1/authorizations", request);
  expect(first).toMatchObject({ status: 201, body: { status: "approved", state: "authorized" } });
  expect(retry).toMatchObject({ status: 200, body: { authorizationId: first.body.authorizationId } });
  expect((await call("GET", `/v1/authorizations/${String(first.body.authorizationId)}`)).body.amountMinor).toBe(1299);
  expect((await call("GET", "/v1/stats")).body).toEqual({ received: 2, authorizations: 1 });
});

test("an injected failure after recording answers 503 while the authorization exists", async () => {
  const { call, cardOnFile } = await start();
  await call("POST", "/v1/faults", JSON.stringify({ failAfterRecording: 1 }));
  const request = JSON.stringify({ idempotencyKey: "order-0002", paymentToken: await cardOnFile(), merchantId: "shop", amountMinor: 500, currency: "EUR" });
  expect(await call("POST", "/v1/authorizations", request)).toMatchObject({ status: 503, body: { error: "processor_unavailable" } });
  expect(processor?.authorizations.size).toBe(1);
  expect(await call("POST", "/v1/authorizations", request)).toMatchObject({ status: 200, body: { status: "approved" } });
});
