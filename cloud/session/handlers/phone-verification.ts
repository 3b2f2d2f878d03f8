// phone.verify.request: the region texts a one-time code to the number being enrolled.
import type { DeviceRequestHandlers } from "./device-request.ts";

export const phoneVerificationHandlers: DeviceRequestHandlers = {
  "phone.verify.request": async (request, { deviceId, sourceAddress, flows, reply }) => {
    // Sends per window are bounded per number, device and address: a scanner cannot text numbers without end.
    const sent = await flows().phones.sendCode(request.number, { deviceId, address: sourceAddress });
    reply(
      sent
        ? { type: "phone.verify.result", requestId: request.requestId, outcome: "sent" }
        : { type: "phone.verify.result", requestId: request.requestId, outcome: "refused", reason: "too many codes asked for: try again later" },
    );
  },
};
