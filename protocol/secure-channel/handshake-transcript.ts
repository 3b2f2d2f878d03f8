// The running hash of everything the handshake has put on the wire, and the keys derived from
// it. Keys come from BLAKE2b keyed with the ephemeral Diffie-Hellman secret over a label and the
// transcript hash, so every key is bound to this exchange's exact bytes and to its role.
import type { Sodium } from "../sodium.ts";

const utf8 = new TextEncoder();
const PROLOGUE = utf8.encode("palmline handshake v1");

export const HandshakeLabel = Object.freeze({
  ResponderIdentityKey: utf8.encode("palmline hs responder identity"),
  InitiatorIdentityKey: utf8.encode("palmline hs initiator identity"),
  ResponderSignature: utf8.encode("palmline hs responder signature"),
  InitiatorSignature: utf8.encode("palmline hs initiator signature"),
  InitiatorToResponder: utf8.encode("palmline session initiator to responder"),
  ResponderToInitiator: utf8.encode("palmline session responder to initiator"),
});

export class HandshakeTranscript {
  #hash: Uint8Array;
  readonly #sodium: Sodium;

  constructor(sodium: Sodium) {
    this.#sodium = sodium;
    this.#hash = sodium.crypto_generichash(32, PROLOGUE, null);
  }

  get hash(): Uint8Array {
    return this.#hash;
  }

  absorb(bytes: Uint8Array): void {
    this.#hash = this.#sodium.crypto_generichash(32, concat(this.#hash, bytes), null);
  }

  /** A 32-byte key for `label`, bound to the current transcript and keyed by the DH secret. */
  deriveKey(label: Uint8Array, sharedSecret: Uint8Array): Uint8Array {
    return this.#sodium.crypto_generichash(32, concat(label, this.#hash), sharedSecret);
  }

  /** What an identity signs: its role's label and the transcript including its own public key. */
  signedContent(label: Uint8Array, signerPublicKey: Uint8Array): Uint8Array {
    return concat(label, this.#sodium.crypto_generichash(32, concat(this.#hash, signerPublicKey), null));
  }
}

export const concat = (...parts: readonly Uint8Array[]): Uint8Array => {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
};

export const ZERO_NONCE = new Uint8Array(24);
