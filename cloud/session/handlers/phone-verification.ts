// phone.verify.request: the region texts a one-time code to the number being enrolled.
import type { DeviceRequestHandlers } from "./device-request.ts";

export const phoneVerificationHandlers: DeviceRequestHandlers = {
  "phone.verify.request": async (request, { flows, reply }) => {
    await flows().phones.sendCode(request.number);
    reply({ type: "phone.verify.result", requestId: request.requestId, outcome: "sent" });
  },
};
