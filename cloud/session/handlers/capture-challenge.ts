// capture.challenge.request: a fresh single-use challenge for the device's next palm capture
// (cloud/session/capture-challenges.ts).
import type { DeviceRequestHandlers } from "./device-request.ts";

export const captureChallengeHandlers: DeviceRequestHandlers = {
  "capture.challenge.request": (request, { deviceId, challenges, reply }) =>
    reply({ type: "capture.challenge.result", requestId: request.requestId, ...challenges.issue(deviceId) }),
};
