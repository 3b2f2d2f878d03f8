// The session both ends hold after a successful handshake: authenticated peer, agreed version,
// encrypted messages in order. There is no other way to put a message on the wire.
import type { Clock } from "../../core/clock.ts";
import type { CloseCodeValue } from "../close-codes.ts";
import type { ChannelError } from "../errors.ts";
import type { WireMessage } from "../messages/index.ts";
import type { RateLimit, TokenBucket } from "../token-bucket.ts";
import type { VersionRange } from "../version.ts";
import type { RekeyPolicy } from "./frame-cipher.ts";

export interface ChannelClosure {
  readonly code: number;
  readonly reason: string;
  /** "local" when this side called close() or rejected something the peer sent. */
  readonly initiatedBy: "local" | "peer";
  /** Set when this side closed because of what the peer sent, or failed the handshake. */
  readonly error?: ChannelError;
}

export interface SecureChannel {
  /** The peer's Ed25519 identity key, authenticated by the handshake. */
  readonly peerPublicKey: Uint8Array;
  readonly protocolVersion: number;
  /** Encrypts and sends one message. Dropped silently once the channel is closed (like ws). */
  send(message: WireMessage): void;
  /** Messages that arrived before the first handler was registered are delivered to it. */
  onMessage(handler: (message: WireMessage) => void): () => void;
  /** Ends the session now: nothing is delivered or sent after this call returns. */
  close(code: CloseCodeValue, reason: string): void;
  readonly isOpen: boolean;
  /** Resolves (never rejects) once the session has ended, however it ended. */
  readonly closed: Promise<ChannelClosure>;
}

export type PeerAdmission =
  | { readonly kind: "admit" }
  | { readonly kind: "provisioning-only" }
  | { readonly kind: "refuse"; readonly code: CloseCodeValue; readonly reason: string };

export type AdmittedPeer = Exclude<PeerAdmission, { readonly kind: "refuse" }>;

export interface ChannelOptions {
  readonly clock?: Clock;
  /** From the first byte (or the socket connecting) to the session being usable. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Versions this side speaks; defaults to MIN_SUPPORTED_VERSION..PROTOCOL_VERSION. */
  readonly versions?: VersionRange;
  /** Largest frame accepted from the peer, header and tag included. */
  readonly maxFrameBytes?: number;
  readonly rekey?: RekeyPolicy;
  /** Per-connection limit on frames from the peer. */
  readonly inboundRateLimit?: RateLimit;
  /** Extra buckets every inbound frame must also draw from, e.g. one shared per device. */
  readonly sharedRateLimits?: (peerPublicKey: Uint8Array) => readonly TokenBucket[];
  /** How long a closing socket may take to finish the close handshake before it is destroyed. */
  readonly closeGraceMs?: number;
}
