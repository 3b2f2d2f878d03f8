// A palm vector: the compact, L2-normalised float vector the FAISS shards search to short-list
// candidates for the template matcher (core/palm-template-vector.ts computes it from a template).
// The inner product of two palm vectors is their cosine similarity.
import { InvalidSignature } from "./errors.ts";

export type PalmVector = Float32Array & { readonly __brand: "PalmVector" };

/** Checks length and finiteness, and L2-normalises a copy. */
export const toPalmVector = (values: ArrayLike<number>, dimension: number): PalmVector => {
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
  if (norm <= 1e-12) throw new InvalidSignature({ reason: "vector has zero norm" });
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimension; i++) out[i] = out[i]! * scale;
  return out as PalmVector;
};

/** Cosine similarity of two normalised vectors, in [-1, 1]. */
export const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
};
