// What a device is for: a checkout lane, a gate, an enrollment kiosk or a service point (loyalty
// lookups and deletion requests). Set per device by whoever installs it and enforced by the
// device itself: a flow binding refuses to run on a device set up for something else.
//
// The mode lives in the device's own device.json, next to its key (edge/device-credentials.ts),
// not in the region's device directory: it is non-personal configuration of the hardware (a
// turnstile has a relay, a lane has a POS), the device must enforce it while offline too, and
// moving a device to another region keeps it. The region still sees what a device does through
// the requests it sends.
import { Data } from "effect";

export const DEVICE_MODES = ["checkout", "gate", "enrollment-kiosk", "service-point"] as const;
export type DeviceMode = (typeof DEVICE_MODES)[number];

export const isDeviceMode = (value: unknown): value is DeviceMode => typeof value === "string" && (DEVICE_MODES as readonly string[]).includes(value);

/** A flow was started on a device whose mode is for another flow. */
export class DeviceModeMismatch extends Data.TaggedError("DeviceModeMismatch")<{
  readonly deviceName: string;
  readonly mode: DeviceMode;
  readonly wanted: DeviceMode;
}> {
  override get message() {
    return `device ${this.deviceName} is in ${this.mode} mode and cannot run a ${this.wanted} flow`;
  }
}

export class InvalidDeviceMode extends Data.TaggedError("InvalidDeviceMode")<{ readonly value: string }> {
  override get message() {
    return `"${this.value}" is not a device mode (one of: ${DEVICE_MODES.join(", ")})`;
  }
}

export const parseDeviceMode = (value: string): DeviceMode => {
  if (!isDeviceMode(value)) throw new InvalidDeviceMode({ value });
  return value;
};
