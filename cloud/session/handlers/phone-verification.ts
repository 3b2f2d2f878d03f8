// phone.verify.request: the region texts a one-time code to the number being enrolled.
import type { DeviceRequestHandlers } from "./device-request.ts";

export const phoneVerificationHandlers: DeviceRequestHandlers = {
  "phone.verify.request": async (request, { flows, reply }) => {
    // A number's sends per window are bounded: a scanner cannot text a number without end.
    const sent = await flows().phones.sendCode(request.number);
    reply(
      sent
        ? { type: "phone.verify.result", requestId: request.requestId, outcome: "sent" }
        : { type: "phone.verify.result", requestId: request.requestId, outcome: "refused", reason: "too many codes for this number: try again later" },
    );
  },
};
