// Gates: may this palm enter, and the lane's report that the person passed (or did not).
import type { DeviceRequestHandlers } from "./device-request.ts";

export const gateHandlers: DeviceRequestHandlers = {
  "gate.entry.request": async (request, { deviceId, flows, reply }) => {
    const result = await flows().gates.enter(deviceId, request);
    reply({ type: "gate.entry.result", requestId: request.requestId, ...result });
  },
  "gate.passage": (report, { deviceId, flows }) => {
    flows().gates.passage(deviceId, report);
  },
};
