// A request that failed without ending the session. `code` is one of the closed list in
// protocol/error-codes.ts (a decoder refuses any other); `message` is for people.
import { Schema } from "effect";
import { WIRE_ERROR_CODES } from "../error-codes.ts";
import { Reason, RequestId } from "./wire-fields.ts";

export const ErrorMessage = Schema.Struct({
  type: Schema.Literal("error"),
  requestId: Schema.optionalKey(RequestId),
  code: Schema.Literals(WIRE_ERROR_CODES),
  message: Reason,
});
export type ErrorMessage = typeof ErrorMessage.Type;

export const errorMessages = [ErrorMessage] as const;
