// Scores every comparison of a protocol on worker threads: all-vs-all (each unordered pair once)
// or probes against a gallery (every probe against every gallery capture). Returns the genuine and
// impostor scores and closed-set rank-1 identification, for any method in pair-scorers.ts.
import { Worker } from "node:worker_threads";
import type { MethodName } from "./pair-scorers.ts";
import type { PairScoringResult, PairScoringWorkerData } from "./pair-scoring-worker.ts";

export interface ScoringJob {
  readonly method: MethodName;
  /** Serialised templates, one per acquired capture. */
  readonly templates: readonly Uint8Array[];
  readonly subjects: readonly number[];
  /** Probes against a gallery (indices into `templates`); all-vs-all when absent. */
  readonly split?: { readonly gallery: readonly number[]; readonly probes: readonly number[] };
  readonly threads: number;
  readonly progress?: (done: number, total: number) => void;
}

export interface ScoredPairs {
  /** Ascending. */
  readonly genuine: Float64Array;
  /** Ascending. */
  readonly impostors: Float32Array;
  /** Probes whose best-scoring other capture is of their own palm. */
  readonly rank1Hits: number;
  /** Probes whose palm has at least one other capture to be found. */
  readonly rank1Probes: number;
}

/** Pairs per task handed to a worker: large enough to amortise messaging, small for balance. */
const PAIRS_PER_TASK = 20_000;

export const scorePairs = async (job: ScoringJob): Promise<ScoredPairs> => {
  const n = job.templates.length;
  const subjects = job.subjects;
  const gallery = job.split === undefined ? null : Int32Array.from(job.split.gallery);
  const probes = job.split === undefined ? Int32Array.from({ length: n }, (_, i) => i) : Int32Array.from(job.split.probes);
  // Count genuine and impostor pairs up front so scores land in preallocated arrays.
  const galleryCount = new Map<number, number>();
  const countIn = (list: ArrayLike<number>) => {
    const m = new Map<number, number>();
    for (let k = 0; k < list.length; k++) m.set(subjects[list[k]!]!, (m.get(subjects[list[k]!]!) ?? 0) + 1);
    return m;
  };
  let genuineCount = 0,
    total = 0;
  if (gallery === null) {
    for (const c of countIn(probes).values()) genuineCount += (c * (c - 1)) / 2;
    total = (n * (n - 1)) / 2;
  } else {
    for (const [s, c] of countIn(gallery)) galleryCount.set(s, c);
    for (const i of probes) genuineCount += galleryCount.get(subjects[i]!) ?? 0;
    total = probes.length * gallery.length;
  }
  const genuine = new Float64Array(genuineCount);
  const impostors = new Float32Array(total - genuineCount);
  let g = 0,
    im = 0,
    done = 0;
  const best = new Float64Array(n).fill(-Infinity);
  const bestSubject = new Int32Array(n).fill(-1);
  const consider = (i: number, j: number, s: number) => {
    if (s > best[i]!) (best[i] = s), (bestSubject[i] = subjects[j]!);
  };

  const offsets = new Int32Array(n + 1);
  job.templates.forEach((t, i) => (offsets[i + 1] = offsets[i]! + t.byteLength));
  const bytes = new SharedArrayBuffer(offsets[n]!);
  const view = new Uint8Array(bytes);
  job.templates.forEach((t, i) => view.set(t, offsets[i]!));

  // Tasks: consecutive probes adding up to about PAIRS_PER_TASK pairs.
  const tasks: Int32Array[] = [];
  let current: number[] = [],
    pairs = 0;
  for (const i of probes) {
    current.push(i);
    pairs += gallery === null ? n - 1 - i : gallery.length;
    if (pairs >= PAIRS_PER_TASK) tasks.push(Int32Array.from(current)), (current = []), (pairs = 0);
  }
  if (current.length > 0) tasks.push(Int32Array.from(current));

  const absorb = (r: PairScoringResult) => {
    let k = 0;
    for (const i of r.probes) {
      const si = subjects[i]!;
      if (gallery === null) {
        for (let j = i + 1; j < n; j++, k++) {
          const s = r.scores[k]!;
          if (subjects[j] === si) genuine[g++] = s;
          else impostors[im++] = s;
          consider(i, j, s);
          consider(j, i, s);
        }
      } else {
        for (let q = 0; q < gallery.length; q++, k++) {
          const j = gallery[q]!,
            s = r.scores[k]!;
          if (subjects[j] === si) genuine[g++] = s;
          else impostors[im++] = s;
          consider(i, j, s);
        }
      }
    }
    done += r.scores.length;
    job.progress?.(done, total);
  };

  const workerData: PairScoringWorkerData = { method: job.method, bytes, offsets, gallery };
  const threads = Math.max(1, Math.min(job.threads, tasks.length));
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./pair-scoring-worker.ts", import.meta.url), { workerData }));
  try {
    let next = 0;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= tasks.length) return resolve();
              w.postMessage({ probes: tasks[next++]! });
            };
            w.on("message", (r: PairScoringResult) => {
              absorb(r);
              feed();
            });
            w.on("error", reject);
            w.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`pair-scoring worker exited with ${code}`))));
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }

  let rank1Hits = 0,
    rank1Probes = 0;
  const findable = gallery === null ? countIn(probes) : galleryCount;
  for (const i of probes) {
    const others = (findable.get(subjects[i]!) ?? 0) - (gallery === null ? 1 : 0);
    if (others < 1) continue;
    rank1Probes++;
    if (bestSubject[i] === subjects[i]) rank1Hits++;
  }
  return { genuine: genuine.sort(), impostors: impostors.sort(), rank1Hits, rank1Probes };
};
