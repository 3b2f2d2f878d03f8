// Why a device session refuses a request on its own account (not a flow's): typed, so the
// session boundary maps them to wire codes like any other failure (wire-error.ts).
import { Data } from "effect";

/** A request from a device the region does not know yet: it must provision itself first. */
export class DeviceNotProvisioned extends Data.TaggedError("DeviceNotProvisioned")<{ readonly received: string }> {
  override get message() {
    return "this device must be provisioned before it can make requests";
  }
}

/** A message a region does not take from a device (one only a region sends). */
export class NotADeviceRequest extends Data.TaggedError("NotADeviceRequest")<{ readonly received: string }> {
  override get message() {
    return `a region does not accept ${this.received}`;
  }
}

/** The node runs no flows (enrollment with card and phone, payments, gates, deletion, step-up). */
export class FlowUnavailable extends Data.TaggedError("FlowUnavailable")<{ readonly reason: string }> {
  override get message() {
    return this.reason;
  }
}
