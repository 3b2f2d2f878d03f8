// Step-up: when the region cannot tell from the palm alone who it is (or whether it is anyone),
// its answer to identify / payment / gate carries "step-up-required" and a step-up token instead
// of an identity. The scanner asks the person for the last four digits of their phone number and
// sends them here; the region compares them with the close candidates' phones (never sent
// anywhere) and answers only confirmed, retry or refused. A confirmed token is then sent once
// with the original request (its `stepUpToken`), which the region answers as for a match.
// The token is single-use, bound to the device and the request kind that opened it, expires
// after a short time and allows a bounded number of digit answers.
import { Schema } from "effect";
import { RequestId } from "./wire-fields.ts";

/** 16 random bytes, base64url without padding. */
export const StepUpToken = Schema.String.check(Schema.isPattern(/^[A-Za-z0-9_-]{22}$/));
export const PhoneLastFour = Schema.String.check(Schema.isPattern(/^[0-9]{4}$/));

export const StepUpDigitsRequest = Schema.Struct({
  type: Schema.Literal("stepup.digits.request"),
  requestId: RequestId,
  stepUpToken: StepUpToken,
  digits: PhoneLastFour,
});
export type StepUpDigitsRequest = typeof StepUpDigitsRequest.Type;

/** The same two fields whatever the outcome. */
export const StepUpDigitsResult = Schema.Struct({
  type: Schema.Literal("stepup.digits.result"),
  requestId: RequestId,
  /** confirmed: send the original request again with the token; retry: ask again; refused: give up. */
  outcome: Schema.Literals(["confirmed", "retry", "refused"]),
  attemptsLeft: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10 })),
});
export type StepUpDigitsResult = typeof StepUpDigitsResult.Type;

export const stepUpMessages = [StepUpDigitsRequest, StepUpDigitsResult] as const;
