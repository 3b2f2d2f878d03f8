// The responder's half of the handshake, pure over bytes like InitiatorHandshake. The version
// is chosen here, from the range the initiator offered inside the transcript both sides sign.
import { HandshakeFailed } from "../errors.ts";
import type { Sodium } from "../sodium.ts";
import { negotiate, type VersionRange } from "../version.ts";
import { ED25519_PUBLIC_KEY_BYTES, FINISH_BYTES, FrameKind, HELLO_BYTES } from "./frame-layout.ts";
import { concat, HandshakeLabel, HandshakeTranscript, ZERO_NONCE } from "./handshake-transcript.ts";
import type { HandshakeResult } from "./handshake-result.ts";
import { generateEphemeralKeyPair } from "./ephemeral-key.ts";
import type { IdentityKeyPair } from "./identity-key.ts";
import { diffieHellman } from "./initiator-handshake.ts";

export class ResponderHandshake {
  readonly #sodium: Sodium;
  readonly #identity: IdentityKeyPair;
  readonly #versions: VersionRange;
  readonly #transcript: HandshakeTranscript;
  #shared: Uint8Array | undefined;
  #version = 0;

  constructor(sodium: Sodium, identity: IdentityKeyPair, versions: VersionRange) {
    this.#sodium = sodium;
    this.#identity = identity;
    this.#versions = versions;
    this.#transcript = new HandshakeTranscript(sodium);
  }

  /** Answers a Hello with a HelloReply. Throws HandshakeFailed or UnsupportedVersion. */
  onHello(hello: Uint8Array): Uint8Array {
    const sodium = this.#sodium;
    if (this.#version !== 0) throw new HandshakeFailed({ reason: "second hello" });
    if (hello.byteLength !== HELLO_BYTES || hello[0] !== FrameKind.Hello) {
      throw new HandshakeFailed({ reason: "malformed hello" });
    }
    const view = new DataView(hello.buffer, hello.byteOffset, hello.byteLength);
    const version = negotiate(this.#versions, { min: view.getUint16(1), max: view.getUint16(3) });
    if (typeof version !== "number") throw version;
    this.#transcript.absorb(hello);

    const ephemeral = generateEphemeralKeyPair(sodium);
    const shared = diffieHellman(sodium, ephemeral.privateKey, hello.subarray(5));
    sodium.memzero(ephemeral.privateKey);
    this.#shared = shared;
    this.#version = version;

    const header = new Uint8Array(3);
    header[0] = FrameKind.HelloReply;
    new DataView(header.buffer).setUint16(1, version);
    const replyHeader = concat(header, ephemeral.publicKey);
    this.#transcript.absorb(replyHeader);
    const ownKey = this.#identity.publicKey;
    const signature = sodium.crypto_sign_detached(this.#transcript.signedContent(HandshakeLabel.ResponderSignature, ownKey), this.#identity.secretKey);
    const identityKey = this.#transcript.deriveKey(HandshakeLabel.ResponderIdentityKey, shared);
    const sealedOwn = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(concat(ownKey, signature), null, null, ZERO_NONCE, identityKey);
    this.#transcript.absorb(sealedOwn);
    return concat(replyHeader, sealedOwn);
  }

  /** Authenticates the initiator from its Finish. Throws HandshakeFailed. */
  onFinish(finish: Uint8Array): HandshakeResult {
    const sodium = this.#sodium;
    const shared = this.#shared;
    if (shared === undefined) throw new HandshakeFailed({ reason: "finish before hello" });
    this.#shared = undefined;
    try {
      if (finish.byteLength !== FINISH_BYTES || finish[0] !== FrameKind.Finish) {
        throw new HandshakeFailed({ reason: "malformed finish" });
      }
      const sealed = finish.subarray(1);
      const finishKey = this.#transcript.deriveKey(HandshakeLabel.InitiatorIdentityKey, shared);
      let opened: Uint8Array;
      try {
        opened = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, null, ZERO_NONCE, finishKey);
      } catch {
        throw new HandshakeFailed({ reason: "initiator identity does not authenticate" });
      }
      const initiatorKey = opened.subarray(0, ED25519_PUBLIC_KEY_BYTES);
      const signature = opened.subarray(ED25519_PUBLIC_KEY_BYTES);
      const signed = this.#transcript.signedContent(HandshakeLabel.InitiatorSignature, initiatorKey);
      if (!sodium.crypto_sign_verify_detached(signature, signed, initiatorKey)) {
        throw new HandshakeFailed({ reason: "initiator signature does not verify" });
      }
      this.#transcript.absorb(sealed);
      return {
        peerPublicKey: initiatorKey.slice(),
        protocolVersion: this.#version,
        sendKey: this.#transcript.deriveKey(HandshakeLabel.ResponderToInitiator, shared),
        receiveKey: this.#transcript.deriveKey(HandshakeLabel.InitiatorToResponder, shared),
      };
    } finally {
      sodium.memzero(shared);
    }
  }
}
