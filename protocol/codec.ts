// msgpack on the wire, Effect Schema at the boundary: nothing reaches a handler that the
// catalogue does not describe. Decoding never throws anything but MalformedMessage.
import { Decoder, Encoder } from "@msgpack/msgpack";
import { Result, Schema } from "effect";
import { MalformedMessage } from "./errors.ts";
import { WireMessage } from "./messages/index.ts";

/** Largest plaintext a frame may carry (the frame layer enforces it before decrypting). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

// undefined optional fields are left out rather than sent as nil (which would decode as null).
const encoder = new Encoder({ ignoreUndefined: true });

const decoder = new Decoder({
  maxStrLength: 64 * 1024,
  maxBinLength: MAX_MESSAGE_BYTES,
  maxArrayLength: 4096,
  maxMapLength: 64,
  maxExtLength: 0,
});

const decodeWireMessage = Schema.decodeUnknownResult(WireMessage);

export const encodeMessage = (message: WireMessage): Uint8Array => encoder.encode(message);

export const decodeMessageResult = (bytes: Uint8Array): Result.Result<WireMessage, MalformedMessage> => {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (cause) {
    return Result.fail(new MalformedMessage({ reason: `not msgpack: ${cause instanceof Error ? cause.message : String(cause)}` }));
  }
  const decoded = decodeWireMessage(raw, { onExcessProperty: "ignore" });
  return Result.isSuccess(decoded) ? Result.succeed(decoded.success) : Result.fail(new MalformedMessage({ reason: truncate(decoded.failure.message, 400) }));
};

/** Throws MalformedMessage. */
export const decodeMessage = (bytes: Uint8Array): WireMessage => {
  const result = decodeMessageResult(bytes);
  if (Result.isFailure(result)) throw result.failure;
  return result.success;
};

const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)}…`);
