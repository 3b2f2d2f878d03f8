// Identification: a device sends one sealed signature; the region answers with the outcome only.
// Never a score, never anyone else's identity, and the same fields whatever the outcome (null
// where they do not apply), so an observer of the decrypted answer learns nothing from its shape.
import { Schema } from "effect";
import { StepUpToken } from "./step-up.ts";
import { IdentityId, Label, RequestId, SealedSignature } from "./wire-fields.ts";

export const IdentifyRequest = Schema.Struct({
  type: Schema.Literal("identify.request"),
  requestId: RequestId,
  sealedSignature: SealedSignature,
  /** A step-up the region confirmed (stepup.digits): it answers for that identity, once. */
  stepUpToken: Schema.optionalKey(StepUpToken),
});
export type IdentifyRequest = typeof IdentifyRequest.Type;

export const IdentifyResult = Schema.Struct({
  type: Schema.Literal("identify.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["match", "no-match", "step-up-required"]),
  /** The identified person (match only). */
  identityId: Schema.NullOr(IdentityId),
  /** Continue with stepup.digits (step-up-required only). */
  stepUpToken: Schema.NullOr(StepUpToken),
  /** A loyalty lookup: the card linked to the identity, when there is one. */
  loyaltyCard: Schema.NullOr(Label),
});
export type IdentifyResult = typeof IdentifyResult.Type;

export const identificationMessages = [IdentifyRequest, IdentifyResult] as const;
