// Phone verification during enrollment: the kiosk asks the region to send a one-time code to the
// number the person typed; the code comes back inside enroll.request, and the region checks it.
import { Schema } from "effect";
import { Reason, RequestId } from "./wire-fields.ts";

/** A phone number in international form (E.164): the one rule every surface that takes a number applies. */
const E164 = /^\+[1-9][0-9]{6,14}$/;
export const isPhoneNumber = (text: string): boolean => E164.test(text);
export const PhoneNumber = Schema.String.check(Schema.isPattern(E164));

export const PhoneVerifyRequest = Schema.Struct({
  type: Schema.Literal("phone.verify.request"),
  requestId: RequestId,
  number: PhoneNumber,
});
export type PhoneVerifyRequest = typeof PhoneVerifyRequest.Type;

export const PhoneVerifyResult = Schema.Struct({
  type: Schema.Literal("phone.verify.result"),
  requestId: RequestId,
  outcome: Schema.Literals(["sent", "refused"]),
  reason: Schema.optionalKey(Reason),
});
export type PhoneVerifyResult = typeof PhoneVerifyResult.Type;

export const phoneVerificationMessages = [PhoneVerifyRequest, PhoneVerifyResult] as const;
