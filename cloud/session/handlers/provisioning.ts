// provision.request, the only message a device the region does not know yet may send: its
// one-time code binds its key to a new device record. A refusal is an outcome, not an error.
import type { DeviceId } from "../../../core/ids.ts";
import type { ProvisionRequest, WireMessage } from "../../../protocol/index.ts";
import { ProvisioningRefused } from "../../storage/sqlite/device-directory.ts";
import type { DeviceSessionDependencies } from "../device-session-dependencies.ts";

/** The new device's id, or undefined when the code was refused (the device has been told). */
export const provisionDevice = (
  request: ProvisionRequest,
  peerPublicKey: Uint8Array,
  deps: DeviceSessionDependencies,
  reply: (answer: WireMessage) => void,
): DeviceId | undefined => {
  try {
    const id = deps.devices.provision(peerPublicKey, request.deviceName, request.oneTimeCode, deps.now());
    deps.log(`device ${id} provisioned as "${request.deviceName}"`);
    reply({ type: "provision.result", requestId: request.requestId, outcome: "provisioned", deviceId: id, templatePublicKey: deps.templateKeys.publicKey });
    return id;
  } catch (error) {
    const reason = error instanceof ProvisioningRefused ? error.reason : "provisioning failed";
    reply({ type: "provision.result", requestId: request.requestId, outcome: "refused", reason });
    return undefined;
  }
};
