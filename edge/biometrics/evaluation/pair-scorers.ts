// How each evaluated method scores a pair of its templates, by name, so the pair-scoring workers
// (pair-scoring-worker.ts) can load the scorer without the encoders that made the templates.
import { decodePalmProbe, decodePalmTemplate, type PalmProbe, type PalmTemplate } from "../../../core/palm-template.ts";
import { matchPrepared, PALM_TEMPLATE_MATCHING, prepareProbe, type PreparedProbe } from "../../../core/palm-template-matching.ts";
import { COMPCODE_MATCHING } from "./compcode-reference.ts";

/** palmline: the template matcher; compcode: the classic reference on the same ROIs. */
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

// A palmline capture's bytes are its probe: as the stored side only variant 0 (the template) counts.
const palmline: PairScorer<PalmProbe, PreparedProbe> = {
  decode: decodePalmProbe,
  prepare: (probe) => prepareProbe(probe, PALM_TEMPLATE_MATCHING.maxShift),
  score: (p, stored) => matchPrepared(p, stored[0]!, PALM_TEMPLATE_MATCHING),
};

export const pairScorer = (method: MethodName): PairScorer<unknown, unknown> => (method === "compcode" ? compcode : palmline) as PairScorer<unknown, unknown>;
