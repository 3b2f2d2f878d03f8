// What a scanner sends of a palm: its probe (core/palm-template.ts: the capture's template and
// the same capture coded at a few small turns and scalings), sealed (anonymous crypto_box_seal)
// to the region's X25519 template key on the device, so the session layer, logs and proxies only
// ever carry ciphertext; only the component holding the template secret key (the matcher) can
// open it. On the wire the field is still called the palm's signature.
//
// Inside the seal, before the probe, sits the capture challenge the region issued to the device's
// session for this request (capture.challenge): anyone can seal to the public key, but nobody can
// move a sealed probe to another challenge, so a region that burns each challenge on first use
// refuses a replayed capture.
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
/** A region's capture challenge: random, single-use. */
export const CAPTURE_CHALLENGE_BYTES = 16;
/** The largest probe: the challenge, the variant count byte and the most variants of the largest template. */
export const SEALED_SIGNATURE_MAX_BYTES = CAPTURE_CHALLENGE_BYTES + 1 + PALM_PROBE_MAX_VARIANTS * PALM_TEMPLATE_MAX_BYTES + SEAL_OVERHEAD_BYTES;
/** The smallest: one variant of a bare header (a real template is larger; decoding checks it). */
export const SEALED_SIGNATURE_MIN_BYTES = CAPTURE_CHALLENGE_BYTES + 1 + PALM_TEMPLATE_HEADER_BYTES + SEAL_OVERHEAD_BYTES;

/** What a capture is sealed to: the region's template key and the challenge its session issued for this request. */
export interface CaptureSeal {
  readonly templatePublicKey: Uint8Array;
  readonly challenge: Uint8Array;
}
export const TEMPLATE_PUBLIC_KEY_BYTES = 32;

export const generateTemplateKeyPair = async (): Promise<TemplateKeyPair> => {
  const sodium = await loadSodium();
  const { publicKey, privateKey } = sodium.crypto_box_keypair();
  return { publicKey, secretKey: privateKey };
};

/** Seals a probe with its challenge; the clear bytes are zeroed before it returns. */
export const sealSignature = async (probe: PalmProbe, to: CaptureSeal): Promise<Uint8Array> => {
  const sodium = await loadSodium();
  if (to.challenge.byteLength !== CAPTURE_CHALLENGE_BYTES)
    throw new SealedSignatureInvalid({ reason: `a capture challenge is ${CAPTURE_CHALLENGE_BYTES} bytes` });
  const encoded = encodePalmProbe(probe);
  const clear = new Uint8Array(CAPTURE_CHALLENGE_BYTES + encoded.byteLength);
  clear.set(to.challenge);
  clear.set(encoded, CAPTURE_CHALLENGE_BYTES);
  sodium.memzero(encoded);
  try {
    return sodium.crypto_box_seal(clear, to.templatePublicKey);
  } finally {
    sodium.memzero(clear);
  }
};

/** The seal opened, or SealedSignatureInvalid for a wrong key, tampering or bad size. The caller wipes it. */
const openSeal = async (sealed: Uint8Array, keys: TemplateKeyPair): Promise<Uint8Array> => {
  const sodium = await loadSodium();
  if (sealed.byteLength < SEALED_SIGNATURE_MIN_BYTES || sealed.byteLength > SEALED_SIGNATURE_MAX_BYTES) {
    throw new SealedSignatureInvalid({ reason: `expected ${SEALED_SIGNATURE_MIN_BYTES}..${SEALED_SIGNATURE_MAX_BYTES} bytes, got ${sealed.byteLength}` });
  }
  try {
    return sodium.crypto_box_seal_open(sealed, keys.publicKey, keys.secretKey);
  } catch {
    throw new SealedSignatureInvalid({ reason: "not sealed to this template key, or altered" });
  }
};

/** The challenge a sealed capture was made for; the probe beside it is wiped unread. */
export const sealedCaptureChallenge = async (sealed: Uint8Array, keys: TemplateKeyPair): Promise<Uint8Array> => {
  const sodium = await loadSodium();
  const opened = await openSeal(sealed, keys);
  try {
    return opened.slice(0, CAPTURE_CHALLENGE_BYTES);
  } finally {
    sodium.memzero(opened);
  }
};

/**
 * Opens a sealed probe; fails with SealedSignatureInvalid for a wrong key, tampering or bad
 * contents. Its challenge is the session's to check (sealedCaptureChallenge), before this.
 */
export const openSealedSignature = async (sealed: Uint8Array, keys: TemplateKeyPair): Promise<PalmProbe> => {
  const sodium = await loadSodium();
  const opened = await openSeal(sealed, keys);
  try {
    return decodePalmProbe(opened.subarray(CAPTURE_CHALLENGE_BYTES));
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
