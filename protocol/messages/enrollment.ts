// Enrollment at a kiosk: several sealed captures of one palm, plus (optionally) the phone
// verification and the card reference the flow collected. The card number itself never travels
// here: the kiosk hands it to the processor's vault and sends only the resulting token.
import { Schema } from "effect";
import { IdentityId, Label, Reason, RequestId, SealedSignature } from "./wire-fields.ts";

export const MAX_ENROLL_CAPTURES = 10;

export const EnrollPhone = Schema.Struct({
  number: Schema.String.check(Schema.isPattern(/^\+[1-9][0-9]{6,14}$/)),
  verificationCode: Schema.String.check(Schema.isPattern(/^[0-9]{4,8}$/)),
});

export const EnrollCard = Schema.Struct({
  processorToken: Schema.String.check(Schema.isBetweenLength(1, 256)),
  brand: Label,
  last4: Schema.String.check(Schema.isPattern(/^[0-9]{4}$/)),
  expiryMonth: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 12 })),
  expiryYear: Schema.Int.check(Schema.isBetween({ minimum: 2000, maximum: 2200 })),
});

export const EnrollRequest = Schema.Struct({
  type: Schema.Literal("enroll.request"),
  requestId: RequestId,
  sealedSignatures: Schema.Array(SealedSignature).check(Schema.isBetweenLength(1, MAX_ENROLL_CAPTURES)),
  phone: Schema.optionalKey(EnrollPhone),
  card: Schema.optionalKey(EnrollCard),
  /** A store loyalty card number to link; returned at checkout and on a loyalty lookup. */
  loyaltyCard: Schema.optionalKey(Label),
});
export type EnrollRequest = typeof EnrollRequest.Type;

export const EnrollResult = Schema.Struct({
  type: Schema.Literal("enroll.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["enrolled", "already-enrolled", "rejected"]),
  identityId: Schema.optionalKey(IdentityId),
  reason: Schema.optionalKey(Reason),
});
export type EnrollResult = typeof EnrollResult.Type;

export const enrollmentMessages = [EnrollRequest, EnrollResult] as const;
