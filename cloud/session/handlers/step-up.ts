// stepup.digits.request: the last four digits of the person's phone, compared in the region
// with the close candidates' (cloud/sagas/step-up-challenges.ts).
import type { DeviceRequestHandlers } from "./device-request.ts";

export const stepUpHandlers: DeviceRequestHandlers = {
  "stepup.digits.request": (request, { deviceId, flows, reply }) => {
    const answer = flows().stepUps.submitDigits(deviceId, request.stepUpToken, request.digits);
    reply({ type: "stepup.digits.result", requestId: request.requestId, ...answer });
  },
};
