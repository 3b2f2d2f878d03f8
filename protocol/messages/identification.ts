// Identification: a device sends one sealed signature; the region answers match or no-match.
import { Schema } from "effect";
import { IdentityId, Label, RequestId, SealedSignature } from "./wire-fields.ts";

export const IdentifyRequest = Schema.Struct({
  type: Schema.Literal("identify.request"),
  requestId: RequestId,
  sealedSignature: SealedSignature,
});
export type IdentifyRequest = typeof IdentifyRequest.Type;

export const IdentifyResult = Schema.Struct({
  type: Schema.Literal("identify.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["match", "no-match"]),
  identityId: Schema.optionalKey(IdentityId),
  score: Schema.Finite,
  /** A loyalty lookup: the card linked to the identity, when there is one. */
  loyaltyCard: Schema.optionalKey(Label),
});
export type IdentifyResult = typeof IdentifyResult.Type;

export const identificationMessages = [IdentifyRequest, IdentifyResult] as const;
