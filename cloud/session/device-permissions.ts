// Which device may send which request. The operator names a device's roles, and the merchant
// it takes payments for or the venue whose gates it opens, when issuing its provisioning code
// (cloud/storage/sqlite/device-directory.ts); the region checks every request against that
// binding, never against what the device says about itself. A request outside the binding is
// refused with NotPermitted and nothing happens; the session stays usable.
import { Data } from "effect";
import type { WireMessage, WireMessageType } from "../../protocol/index.ts";
import type { DeviceBinding, DeviceRole } from "../storage/device-binding.ts";

/** A request the device's binding does not allow. */
export class NotPermitted extends Data.TaggedError("NotPermitted")<{ readonly request: string; readonly reason: string }> {
  override get message() {
    return `this device may not send ${this.request}: ${this.reason}`;
  }
}

/** Requests any provisioned device may send. */
const ANY_ROLE: ReadonlySet<WireMessageType> = new Set(["heartbeat", "stepup.digits.request", "capture.challenge.request"]);

/** The roles that may send each request; a request missing here is sent by no device. */
const ROLES_FOR: { readonly [T in WireMessageType]?: readonly DeviceRole[] } = {
  "identify.request": ["service-point"],
  "deletion.request": ["service-point"],
  "enroll.request": ["enrollment-kiosk"],
  "phone.verify.request": ["enrollment-kiosk"],
  "payment.authorize.request": ["checkout"],
  "payment.credential.request": ["checkout"],
  "payment.settle.request": ["checkout"],
  "gate.entry.request": ["gate"],
  "gate.passage": ["gate"],
};

/** Throws NotPermitted unless the binding allows this request, its merchant and its venue included. */
export const checkPermitted = (binding: DeviceBinding, message: WireMessage): void => {
  if (ANY_ROLE.has(message.type)) return;
  const roles = ROLES_FOR[message.type] ?? [];
  if (!roles.some((r) => binding.roles.includes(r))) {
    throw new NotPermitted({ request: message.type, reason: `its roles are ${binding.roles.join(", ") || "none"}` });
  }
  if ("merchantId" in message && message.merchantId !== binding.merchantId) {
    throw new NotPermitted({ request: message.type, reason: "it takes payments for another merchant" });
  }
  if ("venueId" in message && message.venueId !== binding.venueId) {
    throw new NotPermitted({ request: message.type, reason: "its gates are at another venue" });
  }
};
