// What a device is bound to at provisioning: the roles an operator grants it, and the merchant it
// takes payments for or the venue whose gates it opens. Named with the provisioning code, stored
// with the device (device-directory.ts), and checked on every request by the session
// (cloud/session/device-permissions.ts).
import { Data } from "effect";

/** The same four purposes a device's own mode names (edge/device-mode.ts), here as the region grants them. */
export const DEVICE_ROLES = ["checkout", "gate", "enrollment-kiosk", "service-point"] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];

export interface DeviceBinding {
  readonly roles: readonly DeviceRole[];
  /** The one merchant a checkout device takes payments for. */
  readonly merchantId?: string;
  /** The one venue whose gates a gate device opens. */
  readonly venueId?: string;
}

/** A binding an operator cannot issue: no role, an unknown one, or a checkout without a merchant or a gate without a venue. */
export class InvalidDeviceBinding extends Data.TaggedError("InvalidDeviceBinding")<{ readonly reason: string }> {
  override get message() {
    return `invalid device binding: ${this.reason}`;
  }
}

const isRole = (value: string): value is DeviceRole => (DEVICE_ROLES as readonly string[]).includes(value);
const ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** A binding from the operator's words (the CLI's flags, the operator API's body), checked. */
export const deviceBinding = (input: {
  readonly roles: readonly string[];
  readonly merchantId?: string | undefined;
  readonly venueId?: string | undefined;
}): DeviceBinding => {
  if (input.roles.length === 0) throw new InvalidDeviceBinding({ reason: `name at least one role (${DEVICE_ROLES.join(", ")})` });
  const unknown = input.roles.find((r) => !isRole(r));
  if (unknown !== undefined) throw new InvalidDeviceBinding({ reason: `"${unknown}" is not a role (one of: ${DEVICE_ROLES.join(", ")})` });
  const roles = [...new Set(input.roles as readonly DeviceRole[])];
  for (const [name, value] of [
    ["merchant", input.merchantId],
    ["venue", input.venueId],
  ] as const)
    if (value !== undefined && !ID.test(value)) throw new InvalidDeviceBinding({ reason: `a ${name} id is 1 to 64 letters, digits or . _ : -` });
  if (roles.includes("checkout") && input.merchantId === undefined) throw new InvalidDeviceBinding({ reason: "a checkout device needs its merchant" });
  if (roles.includes("gate") && input.venueId === undefined) throw new InvalidDeviceBinding({ reason: "a gate device needs its venue" });
  return {
    roles,
    ...(input.merchantId !== undefined ? { merchantId: input.merchantId } : {}),
    ...(input.venueId !== undefined ? { venueId: input.venueId } : {}),
  };
};
