// deletion.request: a person at a scanner asks for their palm and data to be deleted.
import type { DeviceRequestHandlers } from "./device-request.ts";

export const deletionHandlers: DeviceRequestHandlers = {
  "deletion.request": async (request, { flows, reply }) => {
    const result = await flows().deletions.request(request);
    reply({ type: "deletion.result", requestId: request.requestId, ...result });
  },
};
