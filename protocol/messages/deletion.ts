// Deletion requested at a device: the person's palm plus an explicit confirmation. The region
// deletes at once, or reports "pending" while transactions are still open (the deletion then
// completes by itself when the last one settles).
import { Schema } from "effect";
import { IdentityId, NonNegativeInt, Reason, RequestId, SealedSignature } from "./wire-fields.ts";

export const DeletionRequest = Schema.Struct({
  type: Schema.Literal("deletion.request"),
  requestId: RequestId,
  sealedSignature: SealedSignature,
  /** The person confirmed on the device's screen; a request without it is malformed. */
  confirmed: Schema.Literal(true),
});
export type DeletionRequest = typeof DeletionRequest.Type;

export const DeletionResult = Schema.Struct({
  type: Schema.Literal("deletion.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["deleted", "pending", "no-match", "refused"]),
  identityId: Schema.optionalKey(IdentityId),
  openTransactions: Schema.optionalKey(NonNegativeInt),
  reason: Schema.optionalKey(Reason),
});
export type DeletionResult = typeof DeletionResult.Type;

export const deletionMessages = [DeletionRequest, DeletionResult] as const;
