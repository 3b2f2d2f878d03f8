// All-vs-all comparison of signatures. Tens of millions of dot products of 2,560-dimensional
// vectors are too slow in a JavaScript loop, so blocks of the similarity matrix are computed by
// a one-node Gemm graph (A * B^T) in onnxruntime, which uses optimised kernels.
import * as ort from "onnxruntime-node";
import { serializeModel } from "../../../models/onnx/onnx-model.ts";
import { GraphBuilder } from "../../../models/onnx/graph-builder.ts";
import { intAttr } from "../../../models/onnx/onnx-model.ts";
import type { PalmSignature } from "../../../core/palm-signature.ts";

export interface ComparisonOutcome {
  /** Same-subject scores, each unordered pair once. */
  readonly genuine: Float32Array;
  /** Different-subject scores, each unordered pair once. */
  readonly impostors: Float32Array;
  /** Per probe: did its most similar other sample belong to the same subject (rank-1 hit)? */
  readonly rank1Hits: number;
  /** Probes whose subject has another sample (closed-set identification is defined for them). */
  readonly rank1Probes: number;
  /** Sample indices (i, j) of each genuine score, in the order of `genuine`. */
  readonly genuinePairs: Int32Array;
  /** Sample indices (i, j) of the impostor pairs scoring at least the shortlist threshold. */
  readonly shortlistedImpostorPairs: Int32Array;
  /** Per probe, its `candidates` most similar other samples, best first (-1 where fewer). */
  readonly topCandidates: Int32Array;
  readonly candidates: number;
}

export interface ComparisonOptions {
  /** Impostor pairs at or above this score are listed for a second comparison. */
  readonly shortlist: number;
  /** How many best candidates to keep per probe. */
  readonly candidates: number;
}

const BLOCK = 256;

const gemmModel = (dimension: number): Uint8Array => {
  const g = new GraphBuilder();
  g.input("a", ["m", dimension]);
  g.input("b", ["n", dimension]);
  g.op("Gemm", ["a", "b"], { transB: intAttr(1) }, "scores");
  g.output("scores", ["m", "n"]);
  return serializeModel(g.build("score_matrix"), { name: "palmline-eval", version: "1" });
};

export const compareAll = async (
  signatures: readonly PalmSignature[],
  subjects: readonly number[],
  options: ComparisonOptions = { shortlist: Infinity, candidates: 0 },
): Promise<ComparisonOutcome> => {
  const n = signatures.length;
  const first = signatures[0];
  const k = options.candidates;
  const none = new Int32Array(0);
  if (first === undefined) {
    return { genuine: new Float32Array(0), impostors: new Float32Array(0), rank1Hits: 0, rank1Probes: 0, genuinePairs: none, shortlistedImpostorPairs: none, topCandidates: none, candidates: k };
  }
  const d = first.length;
  const all = new Float32Array(n * d);
  signatures.forEach((s, i) => all.set(s, i * d));
  const perSubject = new Map<number, number>();
  for (const s of subjects) perSubject.set(s, (perSubject.get(s) ?? 0) + 1);
  let genuineCount = 0;
  for (const c of perSubject.values()) genuineCount += (c * (c - 1)) / 2;
  const genuine = new Float32Array(genuineCount);
  const impostors = new Float32Array((n * (n - 1)) / 2 - genuineCount);
  const genuinePairs = new Int32Array(2 * genuineCount);
  const shortlisted: number[] = [];
  const topCandidates = new Int32Array(n * k).fill(-1);
  const topScores = new Float32Array(k);
  let g = 0, im = 0, hits = 0, probes = 0;
  const session = await ort.InferenceSession.create(gemmModel(d), { intraOpNumThreads: 0 });
  try {
    const b = new ort.Tensor("float32", all, [n, d]);
    for (let start = 0; start < n; start += BLOCK) {
      const m = Math.min(BLOCK, n - start);
      const a = new ort.Tensor("float32", all.subarray(start * d, (start + m) * d), [m, d]);
      const out = await session.run({ a, b });
      const scores = out["scores"]!.data as Float32Array;
      for (let r = 0; r < m; r++) {
        const i = start + r;
        const si = subjects[i]!;
        let best = -Infinity, bestSubject = -1;
        topScores.fill(-Infinity);
        const top = topCandidates.subarray(i * k, (i + 1) * k);
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const s = scores[r * n + j]!;
          if (s > best) (best = s), (bestSubject = subjects[j]!);
          if (k > 0 && s > topScores[k - 1]!) {
            // Insertion into the short sorted list of best candidates.
            let p = k - 1;
            for (; p > 0 && topScores[p - 1]! < s; p--) (topScores[p] = topScores[p - 1]!), (top[p] = top[p - 1]!);
            topScores[p] = s;
            top[p] = j;
          }
          if (j > i) {
            if (subjects[j] === si) {
              genuinePairs[2 * g] = i;
              genuinePairs[2 * g + 1] = j;
              genuine[g++] = s;
            } else {
              impostors[im++] = s;
              if (s >= options.shortlist) shortlisted.push(i, j);
            }
          }
        }
        if ((perSubject.get(si) ?? 0) > 1) {
          probes++;
          if (bestSubject === si) hits++;
        }
      }
    }
  } finally {
    await session.release();
  }
  return {
    genuine,
    impostors,
    rank1Hits: hits,
    rank1Probes: probes,
    genuinePairs,
    shortlistedImpostorPairs: Int32Array.from(shortlisted),
    topCandidates,
    candidates: k,
  };
};
