// heartbeat: answered at once with the sender's own timestamp, so it can time the round trip.
import type { DeviceRequestHandlers } from "./device-request.ts";

export const heartbeatHandlers: DeviceRequestHandlers = {
  heartbeat: (beat, { reply }) => reply({ type: "heartbeat.ack", sentAt: beat.sentAt }),
};
