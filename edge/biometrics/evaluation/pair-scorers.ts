// How each evaluated method scores a pair of its templates, by name, so the pair-scoring workers
// (pair-scoring-worker.ts) can load the scorer without the encoders that made the templates.
import { decodePalmTemplate, type PalmTemplate } from "../../../core/palm-template.ts";
import { matchPrepared, prepareProbe, type PreparedProbe } from "../../../core/palm-template-matching.ts";
import { COMPCODE_MATCHING } from "./compcode-reference.ts";

export const METHOD_NAMES = ["palmline", "compcode"] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** Decode each stored template once, prepare each probe once, then score many pairs. */
export interface PairScorer<T, P> {
  decode(bytes: Uint8Array): T;
  prepare(probe: T): P;
  score(probe: P, stored: T): number;
}

const compcode: PairScorer<PalmTemplate, PreparedProbe> = {
  decode: decodePalmTemplate,
  prepare: (t) => prepareProbe(t, COMPCODE_MATCHING.maxShift),
  score: (p, t) => matchPrepared(p, t, COMPCODE_MATCHING),
};

const cosine: PairScorer<Float32Array, Float32Array> = {
  decode: (bytes) => new Float32Array(bytes.slice().buffer),
  prepare: (t) => t,
  score: (a, b) => {
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
    return dot;
  },
};

export const pairScorer = (method: MethodName): PairScorer<unknown, unknown> =>
  (method === "compcode" ? compcode : cosine) as PairScorer<unknown, unknown>;
