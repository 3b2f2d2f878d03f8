// A data key crosses a region link only sealed to the receiving region: crypto_box_seal to the
// X25519 form of the peer's Ed25519 identity key (the key the federation list names for it and
// the channel authenticated), opened with the X25519 form of this region's identity secret. A
// captured frame, or a link the channel layer got wrong, never shows a data key in clear.
import { randomFillSync } from "node:crypto";
import { Data } from "effect";
import type { IdentityKeyPair } from "../../protocol/index.ts";
import type { Sodium } from "../../protocol/sodium.ts";

export class SealedDataKeyUnopenable extends Data.TaggedError("SealedDataKeyUnopenable")<{ readonly identityId: string }> {
  override get message() {
    return `the data key of ${this.identityId} was not sealed to this region`;
  }
}

/**
 * Seals data keys to one peer region's identity key: crypto_box_seal's own construction and
 * bytes (ephemeral X25519 key, nonce = BLAKE2b-192(ephemeral public || peer public), crypto_box),
 * opened by crypto_box_seal_open. Built from its parts only for the ephemeral secret: libsodium's
 * WebAssembly draws its randomness four bytes per call through WebCrypto, which cost half the
 * time of every seal in a heal (docs/benchmarks.md); node:crypto's CSPRNG gives the 32 bytes in one.
 */
export const dataKeySealerFor = (sodium: Sodium, peerIdentityPublicKey: Uint8Array) => {
  const peerBoxKey = sodium.crypto_sign_ed25519_pk_to_curve25519(peerIdentityPublicKey);
  return (dataKey: Uint8Array): Uint8Array => {
    const ephemeralSecret = randomFillSync(new Uint8Array(sodium.crypto_box_SECRETKEYBYTES));
    try {
      const ephemeralPublic = sodium.crypto_scalarmult_base(ephemeralSecret);
      const nonceInput = new Uint8Array(ephemeralPublic.length + peerBoxKey.length);
      nonceInput.set(ephemeralPublic);
      nonceInput.set(peerBoxKey, ephemeralPublic.length);
      const nonce = sodium.crypto_generichash(sodium.crypto_box_NONCEBYTES, nonceInput, null);
      const boxed = sodium.crypto_box_easy(dataKey, nonce, peerBoxKey, ephemeralSecret);
      const sealed = new Uint8Array(ephemeralPublic.length + boxed.length);
      sealed.set(ephemeralPublic);
      sealed.set(boxed, ephemeralPublic.length);
      return sealed;
    } finally {
      ephemeralSecret.fill(0);
    }
  };
};

/** Opens data keys sealed to this region's identity. */
export const dataKeyOpenerFor = (sodium: Sodium, identity: IdentityKeyPair) => {
  const boxPublic = sodium.crypto_sign_ed25519_pk_to_curve25519(identity.publicKey);
  const boxSecret = sodium.crypto_sign_ed25519_sk_to_curve25519(identity.secretKey);
  return (identityId: string, sealed: Uint8Array): Uint8Array => {
    try {
      return sodium.crypto_box_seal_open(sealed, boxPublic, boxSecret);
    } catch {
      throw new SealedDataKeyUnopenable({ identityId });
    }
  };
};
