// Payments: a first-party authorization and its settlement, and a third-party merchant's
// credential (no amount, no basket).
import type { DeviceRequestHandlers } from "./device-request.ts";

export const paymentHandlers: DeviceRequestHandlers = {
  "payment.authorize.request": async (request, { deviceId, flows, reply }) => {
    const result = await flows().payments.authorize(deviceId, request);
    reply({ type: "payment.authorize.result", requestId: request.requestId, ...result });
  },
  "payment.settle.request": async (request, { deviceId, flows, reply }) => {
    const { payments, deletions } = flows();
    const result = await payments.settle(deviceId, request);
    reply({ type: "payment.settle.result", requestId: request.requestId, ...result });
    // A settled payment may be the last thing a pending deletion waited for.
    if (result.outcome !== "failed") await deletions.settlePending();
  },
  "payment.credential.request": async (request, { deviceId, flows, reply }) => {
    const result = await flows().payments.credential(deviceId, request);
    reply({ type: "payment.credential.result", requestId: request.requestId, ...result });
  },
};
