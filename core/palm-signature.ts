// A palm signature: the fixed-length, L2-normalised float vector the signature model produces
// for one palm capture. Inner product of two signatures is their cosine similarity, which is what
// the FAISS shards search on and what the match threshold is calibrated against.
import { InvalidSignature } from "./errors.ts";

export const SIGNATURE_DIMENSION = 2560;

export type PalmSignature = Float32Array & { readonly __brand: "PalmSignature" };

/** Checks length and finiteness, and L2-normalises a copy. */
export const toPalmSignature = (values: ArrayLike<number>, dimension = SIGNATURE_DIMENSION): PalmSignature => {
  if (values.length !== dimension) {
    throw new InvalidSignature({ reason: `expected ${dimension} values, got ${values.length}` });
  }
  const out = new Float32Array(dimension);
  let norm = 0;
  for (let i = 0; i < dimension; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new InvalidSignature({ reason: `value ${i} is not finite` });
    out[i] = v;
    norm += v * v;
  }
  if (norm <= 1e-12) throw new InvalidSignature({ reason: "signature has zero norm" });
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimension; i++) out[i] = out[i]! * scale;
  return out as PalmSignature;
};

/** Cosine similarity of two normalised signatures, in [-1, 1]. */
export const similarity = (a: PalmSignature, b: PalmSignature): number => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
};

/** Mean of several captures of one palm, renormalised: the enrolled template. */
export const averageSignatures = (signatures: readonly PalmSignature[]): PalmSignature => {
  const first = signatures[0];
  if (first === undefined) throw new InvalidSignature({ reason: "no signatures to average" });
  const sum = new Float32Array(first.length);
  for (const s of signatures) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + s[i]!;
  return toPalmSignature(sum, first.length);
};

export const signatureToBytes = (s: PalmSignature): Uint8Array =>
  new Uint8Array(s.buffer.slice(s.byteOffset, s.byteOffset + s.byteLength));

export const signatureFromBytes = (bytes: Uint8Array, dimension = SIGNATURE_DIMENSION): PalmSignature => {
  if (bytes.byteLength !== dimension * 4) {
    throw new InvalidSignature({ reason: `expected ${dimension * 4} bytes, got ${bytes.byteLength}` });
  }
  const copy = new Uint8Array(bytes);
  return toPalmSignature(new Float32Array(copy.buffer), dimension);
};
