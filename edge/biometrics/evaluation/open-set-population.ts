// The open-set evaluation's population, rendered through the real pipeline (simulated sensor ->
// extractProbe -> enrollment's choice of capture) and cached on disk: the gallery's stored
// templates, mated probes (a new capture of a gallery palm) and non-mated probes (palms never
// enrolled). Rendering runs on worker threads, one palm at a time per task; the bytes do not
// depend on the thread count (open-set-rendering.ts).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Data } from "effect";
import { decodePalmProbe, encodePalmTemplate } from "../../../core/palm-template.ts";
import { DEFAULT_MODEL_PATH } from "../signature-model-contract.ts";
import { CHUNK_PALMS, cacheKey, chunkPath, readChunk, writeChunk } from "./open-set-cache.ts";
import type { OpenSetStage, PalmEntry } from "./open-set-rendering.ts";
import type { RenderResult, RenderTask } from "./open-set-rendering-worker.ts";

export class InvalidOpenSetRequest extends Data.TaggedError("InvalidOpenSetRequest")<{ readonly reason: string }> {
  override get message() {
    return `invalid open-set population request: ${this.reason}`;
  }
}

export interface OpenSetPopulationOptions {
  /** Palms to enroll (those that fail to enroll are left out and counted). */
  readonly gallery: number;
  /** Mated probes: one new capture of each of the first `mated` enrolled palms (all of them when fewer enrolled). */
  readonly mated: number;
  /** Never-enrolled palms, one capture each. */
  readonly nonMated: number;
  /**
   * Further never-enrolled palms (from SINGLE_CAPTURE_FROM on, so never among the non-mated
   * probes) whose one capture's template joins the gallery after the enrolled palms: a gallery
   * larger than three renders per palm allows. Default 0.
   */
  readonly singleCaptures?: number;
  /** Enrollment's agreement threshold (the calibration's score at ENROLLMENT_AGREEMENT_FMR). */
  readonly agreeScore: number;
  readonly threads: number;
  /** Default: .cache/open-set at the repository root. */
  readonly cacheDir?: string;
  /** Palms done per stage (cached ones included), at most every PROGRESS_MS and once at a stage's end. */
  readonly progress?: (stage: OpenSetStage, done: number, total: number) => void;
  /** One line per unusable cache file (default: stderr). */
  readonly warn?: (line: string) => void;
}

export interface OpenSetPopulation {
  /** Per enrolled palm, its stored template (encodePalmTemplate); then the single-capture palms'. */
  readonly gallery: readonly Uint8Array[];
  /** How many of `gallery`, at its end, are single-capture palms. */
  readonly singleCaptures: number;
  /** A new capture's probe (encodePalmProbe) of gallery palm `palm` (an index into `gallery`). */
  readonly mated: readonly { readonly palm: number; readonly probe: Uint8Array }[];
  /** Probes (encodePalmProbe) of palms never enrolled. */
  readonly nonMated: readonly Uint8Array[];
  /** Gallery: palms that could not enroll; mated and non-mated: captures that gave no probe. */
  readonly failuresToAcquire: { readonly gallery: number; readonly mated: number; readonly nonMated: number };
  /** Why, per stage: reason -> count. */
  readonly failureReasons: Readonly<Record<OpenSetStage, Readonly<Record<string, number>>>>;
  /** Palms rendered by this call (the rest came from the cache). */
  readonly rendered: Readonly<Record<OpenSetStage, number>>;
}

/** Index of the first never-enrolled palm that may be a single-capture gallery palm: the non-mated
 *  probes of an evaluation stay below it. */
export const SINGLE_CAPTURE_FROM = 10_000;

const DEFAULT_CACHE_DIR = fileURLToPath(new URL("../../../.cache/open-set", import.meta.url));
const PROGRESS_MS = 3_000;
/** Palms per worker task: large enough to amortise messaging, small enough to balance threads. */
const MAX_PALMS_PER_TASK = 8;
/** Palms rendered between two writes of a chunk file. */
const SAVE_EVERY = 200;

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

// What a cached entry depends on besides its seeds: the model and the code the pipeline runs
// through (a stale cache would silently measure an old pipeline). The gallery also depends on
// enrollment's rule and the matcher it scores agreement with.
const sourceFingerprint = (stage: OpenSetStage): string => {
  const root = new URL("../../../", import.meta.url);
  const folder = (dir: string) =>
    readdirSync(new URL(dir, root))
      .filter((f) => f.endsWith(".ts"))
      .sort()
      .map((f) => dir + f);
  const files = [
    "hardware/simulated-palm-sensor.ts",
    ...folder("hardware/synthetic-palm/"),
    ...folder("edge/biometrics/"),
    "core/palm-template.ts",
    "edge/biometrics/evaluation/open-set-rendering.ts",
    ...(stage === "gallery" ? ["core/palm-enrollment.ts", "core/palm-template-matching.ts"] : []),
  ];
  return sha256(files.map((f) => `${f}\n${sha256(readFileSync(new URL(f, root)))}`).join("\n"));
};

/** Worker threads started on first use, so a run served wholly from the cache starts none. */
class RenderPool {
  readonly #threads: number;
  #workers: Worker[] | undefined;

  constructor(threads: number) {
    this.#threads = Math.max(1, Math.floor(threads));
  }

  /** Renders `palms` of `stage`, reporting each finished task; entries in the order of `palms`. */
  async render(stage: OpenSetStage, palms: readonly number[], agreeScore: number, finished: (count: number) => void): Promise<PalmEntry[]> {
    const perTask = Math.max(1, Math.min(MAX_PALMS_PER_TASK, Math.ceil(palms.length / (4 * this.#threads))));
    const tasks: RenderTask[] = [];
    for (let i = 0; i < palms.length; i += perTask) tasks.push({ stage, palms: palms.slice(i, i + perTask), agreeScore });
    this.#workers ??= Array.from({ length: this.#threads }, () => new Worker(new URL("./open-set-rendering-worker.ts", import.meta.url)));
    const workers = this.#workers.slice(0, tasks.length);
    const byPalm = new Map<number, PalmEntry>();
    let next = 0;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => (next < tasks.length ? w.postMessage(tasks[next++]!) : done());
            const onMessage = (r: RenderResult) => {
              r.palms.forEach((p, i) => byPalm.set(p, r.entries[i]!));
              finished(r.palms.length);
              feed();
            };
            const onError = (e: Error) => (done(), reject(e));
            const onExit = (code: number) => (done(), reject(new Error(`open-set rendering worker exited with ${code}`)));
            const done = () => {
              w.off("message", onMessage).off("error", onError).off("exit", onExit);
              resolve();
            };
            w.on("message", onMessage).on("error", onError).on("exit", onExit);
            feed();
          }),
      ),
    );
    return palms.map((p) => byPalm.get(p)!);
  }

  async close(): Promise<void> {
    await Promise.all((this.#workers ?? []).map((w) => w.terminate()));
  }
}

interface StageRun {
  readonly dir: string;
  readonly pool: RenderPool;
  readonly agreeScore: number;
  readonly modelSha: string;
  readonly progress: OpenSetPopulationOptions["progress"];
  readonly warn: (line: string) => void;
}

/** Entries of palms 0 .. count-1 of a stage: cached chunks read, missing palms rendered and cached. */
const stageEntries = async (run: StageRun, stage: OpenSetStage, count: number): Promise<{ entries: PalmEntry[]; rendered: number }> => {
  const key = cacheKey({ stage, sources: sourceFingerprint(stage), model: run.modelSha, ...(stage === "gallery" ? { agreeScore: run.agreeScore } : {}) });
  const entries: PalmEntry[] = [];
  let rendered = 0,
    shown = 0;
  const report = (force: boolean) => {
    if (run.progress === undefined || (!force && Date.now() - shown < PROGRESS_MS)) return;
    shown = Date.now();
    run.progress(stage, entries.length, count);
  };
  for (let chunk = 0; chunk * CHUNK_PALMS < count; chunk++) {
    const first = chunk * CHUNK_PALMS,
      needed = Math.min(CHUNK_PALMS, count - first);
    const path = chunkPath(run.dir, stage, key, chunk);
    const cached = readChunk(path, stage, run.warn);
    if (cached.length >= needed) {
      entries.push(...cached.slice(0, needed));
      report(false);
      continue;
    }
    entries.push(...cached);
    const done = [...cached];
    // Saved every SAVE_EVERY palms, so an interrupted run loses little of a chunk.
    for (let from = first + cached.length; from < first + needed; from += SAVE_EVERY) {
      const palms = Array.from({ length: Math.min(SAVE_EVERY, first + needed - from) }, (_, i) => from + i);
      let doneHere = 0;
      const fresh = await run.pool.render(stage, palms, run.agreeScore, (n) => {
        doneHere += n;
        if (run.progress !== undefined && Date.now() - shown >= PROGRESS_MS) (shown = Date.now()), run.progress(stage, entries.length + doneHere, count);
      });
      rendered += fresh.length;
      entries.push(...fresh);
      done.push(...fresh);
      writeChunk(path, run.dir, done);
    }
  }
  report(true);
  return { entries, rendered };
};

const tally = (entries: readonly PalmEntry[]): Record<string, number> => {
  const reasons: Record<string, number> = {};
  for (const e of entries) if ("failure" in e) reasons[e.failure] = (reasons[e.failure] ?? 0) + 1;
  return reasons;
};

const failures = (entries: readonly PalmEntry[]) => entries.filter((e) => "failure" in e).length;

export const openSetPopulation = async (o: OpenSetPopulationOptions): Promise<OpenSetPopulation> => {
  const singles = o.singleCaptures ?? 0;
  for (const [name, n] of [
    ["gallery", o.gallery],
    ["mated", o.mated],
    ["nonMated", o.nonMated],
    ["singleCaptures", singles],
  ] as const) {
    if (!Number.isInteger(n) || n < 0) throw new InvalidOpenSetRequest({ reason: `${name} must be a whole number of palms, not ${n}` });
  }
  if (singles > 0 && o.nonMated > SINGLE_CAPTURE_FROM) {
    throw new InvalidOpenSetRequest({ reason: `with single-capture gallery palms, at most ${SINGLE_CAPTURE_FROM} non-mated probes (they would overlap)` });
  }
  const pool = new RenderPool(o.threads);
  const run: StageRun = {
    dir: o.cacheDir ?? DEFAULT_CACHE_DIR,
    pool,
    agreeScore: o.agreeScore,
    modelSha: sha256(readFileSync(DEFAULT_MODEL_PATH)),
    progress: o.progress,
    warn: o.warn ?? ((line) => process.stderr.write(`${line}\n`)),
  };
  try {
    const gallery = await stageEntries(run, "gallery", o.gallery);
    // Gallery index of each enrolled palm, in palm order.
    const enrolled = gallery.entries.flatMap((e, palm) => ("bytes" in e ? [{ palm, template: e.bytes }] : []));
    const matedPalms = enrolled.slice(0, o.mated);
    // Mated captures are cached by palm, for a prefix of palms: palms that did not enroll in it
    // are rendered too (a few), so the cache does not depend on enrollment's outcome.
    const mated = await stageEntries(run, "mated", matedPalms.length === 0 ? 0 : matedPalms.at(-1)!.palm + 1);
    const matedEntries = matedPalms.map((m) => mated.entries[m.palm]!);
    const nonMatedAll = await stageEntries(run, "non-mated", singles > 0 ? SINGLE_CAPTURE_FROM + singles : o.nonMated);
    const nonMated = { entries: nonMatedAll.entries.slice(0, o.nonMated), rendered: nonMatedAll.rendered };
    const singleCaptures = (singles > 0 ? nonMatedAll.entries.slice(SINGLE_CAPTURE_FROM) : []).flatMap((e) =>
      "bytes" in e ? [encodePalmTemplate(decodePalmProbe(e.bytes)[0]!)] : [],
    );
    return {
      gallery: [...enrolled.map((e) => e.template), ...singleCaptures],
      singleCaptures: singleCaptures.length,
      mated: matedEntries.flatMap((e, galleryIndex) => ("bytes" in e ? [{ palm: galleryIndex, probe: e.bytes }] : [])),
      nonMated: nonMated.entries.flatMap((e) => ("bytes" in e ? [e.bytes] : [])),
      failuresToAcquire: { gallery: failures(gallery.entries), mated: failures(matedEntries), nonMated: failures(nonMated.entries) },
      failureReasons: { gallery: tally(gallery.entries), mated: tally(matedEntries), "non-mated": tally(nonMated.entries) },
      rendered: { gallery: gallery.rendered, mated: mated.rendered, "non-mated": nonMated.rendered },
    };
  } finally {
    await pool.close();
  }
};
