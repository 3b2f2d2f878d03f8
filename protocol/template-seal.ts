// What a scanner sends of a palm: its probe (core/palm-template.ts: the capture's template and
// the same capture coded at a few small turns and scalings), sealed (anonymous crypto_box_seal)
// to the region's X25519 template key on the device, so the session layer, logs and proxies only
// ever carry ciphertext; only the component holding the template secret key (the matcher) can
// open it. On the wire the field is still called the palm's signature.
import {
  decodePalmProbe,
  encodePalmProbe,
  PALM_PROBE_MAX_VARIANTS,
  PALM_TEMPLATE_HEADER_BYTES,
  PALM_TEMPLATE_MAX_BYTES,
  wipePalmProbe,
  type PalmProbe,
} from "../core/palm-template.ts";
import { SealedSignatureInvalid } from "./errors.ts";
import { loadSodium } from "./sodium.ts";

export interface TemplateKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** crypto_box_SEALBYTES: ephemeral public key (32) + Poly1305 tag (16). */
export const SEAL_OVERHEAD_BYTES = 48;
/** The largest probe: the variant count byte and the most variants of the largest template. */
export const SEALED_SIGNATURE_MAX_BYTES = 1 + PALM_PROBE_MAX_VARIANTS * PALM_TEMPLATE_MAX_BYTES + SEAL_OVERHEAD_BYTES;
/** The smallest: one variant of a bare header (a real template is larger; decoding checks it). */
export const SEALED_SIGNATURE_MIN_BYTES = 1 + PALM_TEMPLATE_HEADER_BYTES + SEAL_OVERHEAD_BYTES;
export const TEMPLATE_PUBLIC_KEY_BYTES = 32;

export const generateTemplateKeyPair = async (): Promise<TemplateKeyPair> => {
  const sodium = await loadSodium();
  const { publicKey, privateKey } = sodium.crypto_box_keypair();
  return { publicKey, secretKey: privateKey };
};

/** Seals a probe; the clear bytes are zeroed before it returns. */
export const sealSignature = async (probe: PalmProbe, templatePublicKey: Uint8Array): Promise<Uint8Array> => {
  const sodium = await loadSodium();
  const clear = encodePalmProbe(probe);
  try {
    return sodium.crypto_box_seal(clear, templatePublicKey);
  } finally {
    sodium.memzero(clear);
  }
};

/** Opens a sealed probe; fails with SealedSignatureInvalid for a wrong key, tampering or bad contents. */
export const openSealedSignature = async (sealed: Uint8Array, keys: TemplateKeyPair): Promise<PalmProbe> => {
  const sodium = await loadSodium();
  if (sealed.byteLength < SEALED_SIGNATURE_MIN_BYTES || sealed.byteLength > SEALED_SIGNATURE_MAX_BYTES) {
    throw new SealedSignatureInvalid({ reason: `expected ${SEALED_SIGNATURE_MIN_BYTES}..${SEALED_SIGNATURE_MAX_BYTES} bytes, got ${sealed.byteLength}` });
  }
  let opened: Uint8Array;
  try {
    opened = sodium.crypto_box_seal_open(sealed, keys.publicKey, keys.secretKey);
  } catch {
    throw new SealedSignatureInvalid({ reason: "not sealed to this template key, or altered" });
  }
  try {
    return decodePalmProbe(opened);
  } catch (cause) {
    throw new SealedSignatureInvalid({ reason: cause instanceof Error ? cause.message : "invalid probe" });
  } finally {
    sodium.memzero(opened);
  }
};

/** Opens every seal of a request, or none: when one fails, the probes already opened are wiped. */
export const openSealedSignatures = async (sealed: readonly Uint8Array[], keys: TemplateKeyPair): Promise<PalmProbe[]> => {
  const probes: PalmProbe[] = [];
  try {
    for (const s of sealed) probes.push(await openSealedSignature(s, keys));
    return probes;
  } catch (error) {
    probes.forEach(wipePalmProbe);
    throw error;
  }
};
