// enroll.request: through KioskEnrollments only (duplicate check with the phone, card,
// phone code; KioskEnrollments wipes the opened captures). A node without flows does not enroll.
import type { DeviceRequestHandlers } from "./device-request.ts";

export const enrollmentHandlers: DeviceRequestHandlers = {
  "enroll.request": async (request, { deviceId, sourceAddress, deps, flows, reply }) => {
    const result = await flows().enrollment.enroll(request, { deviceId, address: sourceAddress });
    if (result.outcome === "enrolled") deps.log(`enrolled ${result.identityId} from device ${deviceId}`);
    reply({ type: "enroll.result", requestId: request.requestId, ...result });
  },
};
