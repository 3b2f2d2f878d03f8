// The wire between scanners and regions, and between regions. Import from here.
export * from "./close-codes.ts";
export * from "./codec.ts";
export * from "./errors.ts";
export * from "./error-codes.ts";
export * from "./messages/index.ts";
export * from "./template-seal.ts";
export * from "./peer-rate-limits.ts";
export * from "./token-bucket.ts";
export * from "./version.ts";
export * from "./secure-channel/identity-key.ts";
export * from "./secure-channel/secure-channel.ts";
export * from "./secure-channel/initiator.ts";
export * from "./secure-channel/responder.ts";
export * from "./secure-channel/peer-sessions.ts";
export { DEFAULT_REKEY_POLICY, FrameOpener, FrameSealer, type RekeyPolicy } from "./secure-channel/frame-cipher.ts";
export { FrameKind, TRANSPORT_OVERHEAD_BYTES } from "./secure-channel/frame-layout.ts";
export { InitiatorHandshake } from "./secure-channel/initiator-handshake.ts";
export { ResponderHandshake } from "./secure-channel/responder-handshake.ts";
export type { HandshakeResult } from "./secure-channel/handshake-result.ts";
export {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INBOUND_RATE_LIMIT,
  DEFAULT_MAX_FRAME_BYTES,
} from "./secure-channel/websocket-channel.ts";
