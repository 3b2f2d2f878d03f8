// The initiator's half of the handshake as a pure state machine over bytes (no socket), so the
// same code runs on a WebSocket, in the benchmark and in the fuzz tests.
//
//   -> Hello       versions offered, initiator ephemeral
//   <- HelloReply  version chosen, responder ephemeral, AEAD(responder identity, signature)
//   -> Finish      AEAD(initiator identity, signature)
import { HandshakeFailed, PinnedKeyMismatch, UnsupportedVersion } from "../errors.ts";
import type { Sodium } from "../sodium.ts";
import type { VersionRange } from "../version.ts";
import { ED25519_PUBLIC_KEY_BYTES, FrameKind, HELLO_REPLY_BYTES, HELLO_REPLY_HEADER_BYTES, X25519_KEY_BYTES } from "./frame-layout.ts";
import { concat, HandshakeLabel, HandshakeTranscript, ZERO_NONCE } from "./handshake-transcript.ts";
import type { HandshakeResult } from "./handshake-result.ts";
import { generateEphemeralKeyPair, type EphemeralKeyPair } from "./ephemeral-key.ts";
import type { IdentityKeyPair } from "./identity-key.ts";

export class InitiatorHandshake {
  readonly #sodium: Sodium;
  readonly #identity: IdentityKeyPair;
  readonly #pinnedResponderKey: Uint8Array;
  readonly #versions: VersionRange;
  readonly #transcript: HandshakeTranscript;
  #ephemeral: EphemeralKeyPair | undefined;

  constructor(sodium: Sodium, identity: IdentityKeyPair, pinnedResponderKey: Uint8Array, versions: VersionRange) {
    if (pinnedResponderKey.byteLength !== ED25519_PUBLIC_KEY_BYTES) {
      throw new HandshakeFailed({ reason: `pinned responder key must be ${ED25519_PUBLIC_KEY_BYTES} bytes` });
    }
    this.#sodium = sodium;
    this.#identity = identity;
    this.#pinnedResponderKey = pinnedResponderKey;
    this.#versions = versions;
    this.#transcript = new HandshakeTranscript(sodium);
  }

  hello(): Uint8Array {
    const ephemeral = generateEphemeralKeyPair(this.#sodium);
    this.#ephemeral = ephemeral;
    const header = new Uint8Array(5);
    const view = new DataView(header.buffer);
    header[0] = FrameKind.Hello;
    view.setUint16(1, this.#versions.min);
    view.setUint16(3, this.#versions.max);
    const hello = concat(header, ephemeral.publicKey);
    this.#transcript.absorb(hello);
    return hello;
  }

  /** Checks the responder's reply; returns the Finish frame and the session keys. Throws ChannelError. */
  onHelloReply(reply: Uint8Array): { readonly finish: Uint8Array; readonly result: HandshakeResult } {
    const sodium = this.#sodium;
    const ephemeral = this.#ephemeral;
    if (ephemeral === undefined) throw new HandshakeFailed({ reason: "reply before hello" });
    this.#ephemeral = undefined;
    if (reply.byteLength !== HELLO_REPLY_BYTES || reply[0] !== FrameKind.HelloReply) {
      throw new HandshakeFailed({ reason: "malformed hello reply" });
    }
    const version = new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getUint16(1);
    if (version < this.#versions.min || version > this.#versions.max) {
      throw new UnsupportedVersion({ reason: `responder chose ${version}, offered ${this.#versions.min}..${this.#versions.max}` });
    }
    const responderEphemeral = reply.subarray(3, 3 + X25519_KEY_BYTES);
    const shared = diffieHellman(sodium, ephemeral.privateKey, responderEphemeral);
    sodium.memzero(ephemeral.privateKey);
    try {
      this.#transcript.absorb(reply.subarray(0, HELLO_REPLY_HEADER_BYTES));
      const sealedIdentity = reply.subarray(HELLO_REPLY_HEADER_BYTES);
      const identityKey = this.#transcript.deriveKey(HandshakeLabel.ResponderIdentityKey, shared);
      let opened: Uint8Array;
      try {
        opened = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealedIdentity, null, ZERO_NONCE, identityKey);
      } catch {
        throw new HandshakeFailed({ reason: "responder identity does not authenticate" });
      }
      const responderKey = opened.subarray(0, ED25519_PUBLIC_KEY_BYTES);
      const responderSignature = opened.subarray(ED25519_PUBLIC_KEY_BYTES);
      if (!sodium.memcmp(responderKey, this.#pinnedResponderKey)) {
        throw new PinnedKeyMismatch({ presentedKey: responderKey.slice() });
      }
      const signed = this.#transcript.signedContent(HandshakeLabel.ResponderSignature, responderKey);
      if (!sodium.crypto_sign_verify_detached(responderSignature, signed, responderKey)) {
        throw new HandshakeFailed({ reason: "responder signature does not verify" });
      }
      this.#transcript.absorb(sealedIdentity);

      const ownKey = this.#identity.publicKey;
      const signature = sodium.crypto_sign_detached(this.#transcript.signedContent(HandshakeLabel.InitiatorSignature, ownKey), this.#identity.secretKey);
      const finishKey = this.#transcript.deriveKey(HandshakeLabel.InitiatorIdentityKey, shared);
      const sealedOwn = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(concat(ownKey, signature), null, null, ZERO_NONCE, finishKey);
      this.#transcript.absorb(sealedOwn);
      const finish = concat(Uint8Array.of(FrameKind.Finish), sealedOwn);
      return {
        finish,
        result: {
          peerPublicKey: responderKey.slice(),
          protocolVersion: version,
          sendKey: this.#transcript.deriveKey(HandshakeLabel.InitiatorToResponder, shared),
          receiveKey: this.#transcript.deriveKey(HandshakeLabel.ResponderToInitiator, shared),
        },
      };
    } finally {
      sodium.memzero(shared);
    }
  }
}

/** X25519; libsodium refuses low-order points (all-zero output), which we report as a failed handshake. */
export const diffieHellman = (sodium: Sodium, privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array => {
  try {
    return sodium.crypto_scalarmult(privateKey, peerPublicKey);
  } catch {
    throw new HandshakeFailed({ reason: "weak ephemeral key" });
  }
};
