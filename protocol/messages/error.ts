// A request that failed without ending the session. `code` is a stable machine-readable name
// (e.g. "rate-limited", "not-provisioned", "internal"); `message` is for people.
import { Schema } from "effect";
import { Reason, RequestId } from "./wire-fields.ts";

export const ErrorMessage = Schema.Struct({
  type: Schema.Literal("error"),
  requestId: Schema.optionalKey(RequestId),
  code: Schema.String.check(Schema.isBetweenLength(1, 64)),
  message: Reason,
});
export type ErrorMessage = typeof ErrorMessage.Type;

export const errorMessages = [ErrorMessage] as const;
