// Typed failures of the wire. Every error that ends a session names the close code it ends it
// with, so the node, the device and the fuzz tests can all check "rejected, and why" the same way.
import { Data } from "effect";
import { CloseCode, type CloseCodeValue } from "./close-codes.ts";

export class HandshakeTimeout extends Data.TaggedError("HandshakeTimeout")<{ readonly afterMs: number }> {
  readonly closeCode: CloseCodeValue = CloseCode.HandshakeTimeout;
  override get message() {
    return `handshake did not complete within ${this.afterMs} ms`;
  }
}

export class HandshakeFailed extends Data.TaggedError("HandshakeFailed")<{ readonly reason: string }> {
  readonly closeCode: CloseCodeValue = CloseCode.HandshakeFailed;
  override get message() {
    return `handshake failed: ${this.reason}`;
  }
}

export class PinnedKeyMismatch extends Data.TaggedError("PinnedKeyMismatch")<{ readonly presentedKey: Uint8Array }> {
  readonly closeCode: CloseCodeValue = CloseCode.PinnedKeyMismatch;
  override get message() {
    return "the responder's identity key is not the pinned key";
  }
}

export class UnsupportedVersion extends Data.TaggedError("UnsupportedVersion")<{ readonly reason: string }> {
  readonly closeCode: CloseCodeValue = CloseCode.UnsupportedVersion;
  override get message() {
    return `unsupported protocol version: ${this.reason}`;
  }
}

/** The connection ended (peer closed it, e.g. refusing us during the handshake, or the network failed). */
export class ConnectionClosed extends Data.TaggedError("ConnectionClosed")<{ readonly closeCode: number; readonly reason: string }> {
  override get message() {
    return `connection closed with ${this.closeCode}${this.reason ? `: ${this.reason}` : ""}`;
  }
}

/** This side refused the peer on the node's decision (unknown device, revoked, ...). */
export class PeerRefused extends Data.TaggedError("PeerRefused")<{ readonly closeCode: CloseCodeValue; readonly reason: string }> {
  override get message() {
    return this.reason;
  }
}

export class ReplayedFrame extends Data.TaggedError("ReplayedFrame")<{ readonly counter: number; readonly expected: number }> {
  readonly closeCode: CloseCodeValue = CloseCode.ReplayedFrame;
  override get message() {
    return `replayed frame: counter ${this.counter}, expected ${this.expected}`;
  }
}

export class ReorderedFrame extends Data.TaggedError("ReorderedFrame")<{ readonly counter: number; readonly expected: number }> {
  readonly closeCode: CloseCodeValue = CloseCode.ReorderedFrame;
  override get message() {
    return `frame out of order: counter ${this.counter}, expected ${this.expected}`;
  }
}

export class ForgedFrame extends Data.TaggedError("ForgedFrame")<{ readonly reason: string }> {
  readonly closeCode: CloseCodeValue = CloseCode.ForgedFrame;
  override get message() {
    return `forged frame: ${this.reason}`;
  }
}

export class TruncatedFrame extends Data.TaggedError("TruncatedFrame")<{ readonly byteLength: number }> {
  readonly closeCode: CloseCodeValue = CloseCode.TruncatedFrame;
  override get message() {
    return `truncated frame of ${this.byteLength} bytes`;
  }
}

export class OversizedFrame extends Data.TaggedError("OversizedFrame")<{ readonly byteLength: number; readonly limit: number }> {
  readonly closeCode: CloseCodeValue = CloseCode.OversizedFrame;
  override get message() {
    return `frame of ${this.byteLength} bytes exceeds the limit of ${this.limit}`;
  }
}

export class MalformedMessage extends Data.TaggedError("MalformedMessage")<{ readonly reason: string }> {
  readonly closeCode: CloseCodeValue = CloseCode.MalformedMessage;
  override get message() {
    return `malformed message: ${this.reason}`;
  }
}

/** A well-formed message this session may not carry (newer than the negotiated version). */
export class UnexpectedMessage extends Data.TaggedError("UnexpectedMessage")<{ readonly reason: string }> {
  readonly closeCode: CloseCodeValue = CloseCode.UnexpectedMessage;
  override get message() {
    return `unexpected message: ${this.reason}`;
  }
}

export class RateLimited extends Data.TaggedError("RateLimited")<{ readonly limit: string }> {
  readonly closeCode: CloseCodeValue = CloseCode.RateLimited;
  override get message() {
    return `rate limit exceeded: ${this.limit}`;
  }
}

/** Something on this side threw (a message handler, the admission callback); the session ends. */
export class InternalFailure extends Data.TaggedError("InternalFailure")<{ readonly during: string; readonly cause: unknown }> {
  readonly closeCode: CloseCodeValue = CloseCode.InternalError;
  override get message() {
    return `${this.during} failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`;
  }
}

/** Not a session error: a sealed signature that cannot be opened with the given template key. */
export class SealedSignatureInvalid extends Data.TaggedError("SealedSignatureInvalid")<{ readonly reason: string }> {
  override get message() {
    return `sealed signature cannot be opened: ${this.reason}`;
  }
}

/** Every error that ends a session; each carries the close code the session ended with. */
export type ChannelError =
  | HandshakeTimeout
  | HandshakeFailed
  | PinnedKeyMismatch
  | UnsupportedVersion
  | ConnectionClosed
  | PeerRefused
  | ReplayedFrame
  | ReorderedFrame
  | ForgedFrame
  | TruncatedFrame
  | OversizedFrame
  | MalformedMessage
  | UnexpectedMessage
  | RateLimited
  | InternalFailure;

const CHANNEL_ERROR_TAGS: ReadonlySet<string> = new Set<ChannelError["_tag"]>([
  "HandshakeTimeout",
  "HandshakeFailed",
  "PinnedKeyMismatch",
  "UnsupportedVersion",
  "ConnectionClosed",
  "PeerRefused",
  "ReplayedFrame",
  "ReorderedFrame",
  "ForgedFrame",
  "TruncatedFrame",
  "OversizedFrame",
  "MalformedMessage",
  "UnexpectedMessage",
  "RateLimited",
  "InternalFailure",
]);

export const isChannelError = (u: unknown): u is ChannelError =>
  u instanceof Error && "_tag" in u && typeof u._tag === "string" && CHANNEL_ERROR_TAGS.has(u._tag);

/** Anything thrown on a channel's path, as a ChannelError (unexpected throws become InternalFailure). */
export const toChannelError = (u: unknown, during: string): ChannelError => (isChannelError(u) ? u : new InternalFailure({ during, cause: u }));
