// Payments: a first-party authorization and its settlement, and a third-party merchant's
// credential (no amount, no basket).
import type { DeviceRequestHandlers } from "./device-request.ts";

export const paymentHandlers: DeviceRequestHandlers = {
  "payment.authorize.request": async (request, { deviceId, flows, reply }) => {
    const result = await flows().payments.authorize(deviceId, request);
    reply({ type: "payment.authorize.result", requestId: request.requestId, ...result });
  },
  "payment.settle.request": async (request, { deviceId, flows, reply }) => {
    // A settlement that leaves the identity no open payment completes its pending deletion through
    // the ledger's watcher (cloud/lifecycle/closing-payment-ledger.ts), whichever path settled it.
    const result = await flows().payments.settle(deviceId, request);
    reply({ type: "payment.settle.result", requestId: request.requestId, ...result });
  },
  "payment.credential.request": async (request, { deviceId, flows, reply }) => {
    const result = await flows().payments.credential(deviceId, request);
    reply({ type: "payment.credential.result", requestId: request.requestId, ...result });
  },
};
