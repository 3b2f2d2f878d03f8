// Palm signatures are sealed (anonymous crypto_box_seal) to the region's X25519 template key on
// the device, so the session layer, logs and proxies only ever carry ciphertext; only the
// component holding the template secret key (the matcher) can open them.
import { signatureFromBytes, signatureToBytes, SIGNATURE_DIMENSION, type PalmSignature } from "../core/palm-signature.ts";
import { SealedSignatureInvalid } from "./errors.ts";
import { loadSodium } from "./sodium.ts";

export interface TemplateKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** crypto_box_SEALBYTES: ephemeral public key (32) + Poly1305 tag (16). */
export const SEAL_OVERHEAD_BYTES = 48;
export const SEALED_SIGNATURE_BYTES = SIGNATURE_DIMENSION * 4 + SEAL_OVERHEAD_BYTES;
export const TEMPLATE_PUBLIC_KEY_BYTES = 32;

export const generateTemplateKeyPair = async (): Promise<TemplateKeyPair> => {
  const sodium = await loadSodium();
  const { publicKey, privateKey } = sodium.crypto_box_keypair();
  return { publicKey, secretKey: privateKey };
};

export const sealSignature = async (signature: PalmSignature, templatePublicKey: Uint8Array): Promise<Uint8Array> => {
  const sodium = await loadSodium();
  return sodium.crypto_box_seal(signatureToBytes(signature), templatePublicKey);
};

/** Opens a sealed signature; fails with SealedSignatureInvalid for a wrong key, tampering or bad contents. */
export const openSealedSignature = async (sealed: Uint8Array, keys: TemplateKeyPair): Promise<PalmSignature> => {
  const sodium = await loadSodium();
  if (sealed.byteLength !== SEALED_SIGNATURE_BYTES) {
    throw new SealedSignatureInvalid({ reason: `expected ${SEALED_SIGNATURE_BYTES} bytes, got ${sealed.byteLength}` });
  }
  let opened: Uint8Array;
  try {
    opened = sodium.crypto_box_seal_open(sealed, keys.publicKey, keys.secretKey);
  } catch {
    throw new SealedSignatureInvalid({ reason: "not sealed to this template key, or altered" });
  }
  try {
    return signatureFromBytes(opened);
  } catch (cause) {
    throw new SealedSignatureInvalid({ reason: cause instanceof Error ? cause.message : "invalid signature" });
  } finally {
    sodium.memzero(opened);
  }
};
