// Provisioning: a device whose key the region does not know yet is admitted for this exchange
// only; a valid one-time code binds its key (seen in the handshake) to a device record.
import { Schema } from "effect";
import { DeviceId, Label, Reason, RequestId, TemplatePublicKey } from "./wire-fields.ts";

export const ProvisionRequest = Schema.Struct({
  type: Schema.Literal("provision.request"),
  requestId: RequestId,
  oneTimeCode: Schema.String.check(Schema.isBetweenLength(4, 64)),
  deviceName: Label,
});
export type ProvisionRequest = typeof ProvisionRequest.Type;

export const ProvisionResult = Schema.Struct({
  type: Schema.Literal("provision.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["provisioned", "refused"]),
  deviceId: Schema.optionalKey(DeviceId),
  templatePublicKey: Schema.optionalKey(TemplatePublicKey),
  reason: Schema.optionalKey(Reason),
});
export type ProvisionResult = typeof ProvisionResult.Type;

export const provisioningMessages = [ProvisionRequest, ProvisionResult] as const;
