// Gate entry: identify at a turnstile, the region checks the person's entitlement (ticket,
// badge) for this venue and answers open or the reason not to; the gate reports whether the
// person actually went through, so a ticket is only spent on a real passage.
import { Schema } from "effect";
import { StepUpToken } from "./step-up.ts";
import { IdentityId, Label, Reason, RequestId, SealedSignature, Timestamp } from "./wire-fields.ts";

const GateId = Schema.String.check(Schema.isBetweenLength(1, 64));
const VenueId = Schema.String.check(Schema.isBetweenLength(1, 64));

export const GateEntryRequest = Schema.Struct({
  type: Schema.Literal("gate.entry.request"),
  requestId: RequestId,
  venueId: VenueId,
  gateId: GateId,
  sealedSignature: SealedSignature,
  /** A step-up the region confirmed: checks that identity's entitlement. */
  stepUpToken: Schema.optionalKey(StepUpToken),
});
export type GateEntryRequest = typeof GateEntryRequest.Type;

export const Entitlement = Schema.Struct({
  kind: Schema.Literals(["ticket", "badge", "membership"]),
  label: Label,
  validUntil: Schema.optionalKey(Timestamp),
});

export const GateEntryResult = Schema.Struct({
  type: Schema.Literal("gate.entry.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["open", "denied", "no-match", "step-up-required"]),
  identityId: Schema.optionalKey(IdentityId),
  /** step-up-required: continue with stepup.digits, then ask again with it. */
  stepUpToken: Schema.optionalKey(StepUpToken),
  entitlement: Schema.optionalKey(Entitlement),
  /** How long the relay stays open. */
  openForMs: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 60_000 }))),
  reason: Schema.optionalKey(Reason),
});
export type GateEntryResult = typeof GateEntryResult.Type;

export const GatePassage = Schema.Struct({
  type: Schema.Literal("gate.passage"),
  requestId: RequestId,
  gateId: GateId,
  passed: Schema.Boolean,
  at: Timestamp,
});
export type GatePassage = typeof GatePassage.Type;

export const gateMessages = [GateEntryRequest, GateEntryResult, GatePassage] as const;
