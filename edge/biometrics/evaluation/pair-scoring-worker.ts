// One pair-scoring thread: decodes every template once, then scores the probe rows it is sent
// (pair-scoring.ts hands out the rows and gathers the scores).
import { parentPort, workerData } from "node:worker_threads";
import { pairScorer, type MethodName } from "./pair-scorers.ts";

export interface PairScoringWorkerData {
  readonly method: MethodName;
  readonly bytes: SharedArrayBuffer;
  /** Template t is bytes[offsets[t] .. offsets[t + 1]). */
  readonly offsets: Int32Array;
  /** Stored templates each probe meets, or null for all-vs-all (probe i meets every j > i). */
  readonly gallery: Int32Array | null;
}

export interface PairScoringTask {
  readonly probes: Int32Array;
}

export interface PairScoringResult {
  readonly probes: Int32Array;
  /** The probes' rows one after another. */
  readonly scores: Float32Array;
}

const data = workerData as PairScoringWorkerData;
const scorer = pairScorer(data.method);
const all = new Uint8Array(data.bytes);
const n = data.offsets.length - 1;
const templates = Array.from({ length: n }, (_, t) => scorer.decode(all.subarray(data.offsets[t]!, data.offsets[t + 1]!)));

parentPort!.on("message", (task: PairScoringTask) => {
  const rows = task.probes;
  let total = 0;
  for (const i of rows) total += data.gallery === null ? n - 1 - i : data.gallery.length;
  const scores = new Float32Array(total);
  let k = 0;
  for (const i of rows) {
    const probe = scorer.prepare(templates[i]);
    if (data.gallery === null) for (let j = i + 1; j < n; j++) scores[k++] = scorer.score(probe, templates[j]);
    else for (const j of data.gallery) scores[k++] = scorer.score(probe, templates[j]);
  }
  const result: PairScoringResult = { probes: rows, scores };
  parentPort!.postMessage(result, [scores.buffer]);
});
