// Byte layout of everything the secure channel puts on a WebSocket (one frame per binary
// WebSocket message). The first byte says what the frame is.
//
// Transport frame (after the handshake):
//   kind u8 | counter u32be | length u32be | ciphertext (length bytes, Poly1305 tag included)
// The 9-byte header is the AEAD's associated data; the 24-byte XChaCha20 nonce is the counter,
// big-endian, in the last 4 bytes of an otherwise zero nonce. Overhead: 9 + 16 = 25 bytes.
export const FrameKind = Object.freeze({
  Hello: 0x01,
  HelloReply: 0x02,
  Finish: 0x03,
  Data: 0x10,
  Accept: 0x11,
  Rekey: 0x12,
} as const);
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const X25519_KEY_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const AEAD_KEY_BYTES = 32;
export const AEAD_TAG_BYTES = 16;
export const AEAD_NONCE_BYTES = 24;

export const TRANSPORT_HEADER_BYTES = 9;
export const TRANSPORT_OVERHEAD_BYTES = TRANSPORT_HEADER_BYTES + AEAD_TAG_BYTES;
export const MAX_FRAME_COUNTER = 0xffff_ffff;

// Handshake frames have fixed sizes, so anything else is rejected before any crypto runs.
//   Hello:      kind | min u16be | max u16be | initiator ephemeral (32)
//   HelloReply: kind | version u16be | responder ephemeral (32) | AEAD(responder identity (32) | signature (64))
//   Finish:     kind | AEAD(initiator identity (32) | signature (64))
export const HELLO_BYTES = 1 + 2 + 2 + X25519_KEY_BYTES;
export const SEALED_IDENTITY_BYTES = ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES + AEAD_TAG_BYTES;
export const HELLO_REPLY_HEADER_BYTES = 1 + 2 + X25519_KEY_BYTES;
export const HELLO_REPLY_BYTES = HELLO_REPLY_HEADER_BYTES + SEALED_IDENTITY_BYTES;
export const FINISH_BYTES = 1 + SEALED_IDENTITY_BYTES;

/** Plaintext of the Accept frame: how far the responder admitted the initiator. */
export const ADMISSION_BYTE = Object.freeze({ admit: 1, "provisioning-only": 2 } as const);
