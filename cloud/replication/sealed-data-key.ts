// A data key crosses a region link only sealed to the receiving region: crypto_box_seal to the
// X25519 form of the peer's Ed25519 identity key (the key the federation list names for it and
// the channel authenticated), opened with the X25519 form of this region's identity secret. A
// captured frame, or a link the channel layer got wrong, never shows a data key in clear.
import { Data } from "effect";
import type { IdentityKeyPair } from "../../protocol/index.ts";
import type { Sodium } from "../../protocol/sodium.ts";

export class SealedDataKeyUnopenable extends Data.TaggedError("SealedDataKeyUnopenable")<{ readonly identityId: string }> {
  override get message() {
    return `the data key of ${this.identityId} was not sealed to this region`;
  }
}

/** Seals data keys to one peer region's identity key. */
export const dataKeySealerFor = (sodium: Sodium, peerIdentityPublicKey: Uint8Array) => {
  const peerBoxKey = sodium.crypto_sign_ed25519_pk_to_curve25519(peerIdentityPublicKey);
  return (dataKey: Uint8Array): Uint8Array => sodium.crypto_box_seal(dataKey, peerBoxKey);
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
