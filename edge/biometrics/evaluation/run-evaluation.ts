// `npm run eval`: accuracy of the palm pipeline measured the way vendors report it. Its options
// are declared, parsed and described (`palmline eval --help`) in cli/commands/eval.ts.
//
// Protocols: all-vs-all (each unordered pair once); `--sessions s1` all-vs-all within session s1;
// `--sessions s1,s2` gallery from session s1, probes from s2, every probe against every gallery
// capture. Prints a readable report and, last, one JSON line.
import { writeFileSync } from "node:fs";
import type { PalmFrame } from "../../../hardware/palm-sensor.ts";
import { SimulatedPalmSensor, type PresentationAttack } from "../../../hardware/simulated-palm-sensor.ts";
import { dPrime, detCurve, equalErrorRate, IMPOSTORS_PER_INVERSE_FMR, resolvedOperatingPointAtFmr } from "../../../core/verification-metrics.ts";
import { fitImpostorTail, impostorTailCalibration, deployedScoreCalibration, type ScoreCalibration } from "../../../core/score-calibration.ts";
import { apcer, bpcer, thresholdAtBpcer } from "../../../core/presentation-attack-metrics.ts";
import { SignatureExtractor, type ModelChannels, type PalmFraming } from "../signature-extractor.ts";
import { LIVENESS_THRESHOLD } from "../liveness-check.ts";
import { listDataset, readDatasetFrame } from "./dataset-folder.ts";
import { drawDetCurve } from "./det-plot.ts";
import { loadEncoder, type TemplateEncoder } from "./matching-method.ts";
import type { MethodName } from "./pair-scorers.ts";
import { scorePairs } from "./pair-scoring.ts";

/** Synthetic evaluation subjects start here: no seed at or above it was used to tune anything. */
export const SYNTHETIC_EVAL_SEED_BASE = 3_000_000;

/** What `palmline eval` was asked to measure (cli/commands/eval.ts reads it from the command line). */
export interface EvaluationOptions {
  readonly dataset?: string;
  readonly synthetic?: number;
  readonly captures: number;
  readonly pad: boolean;
  readonly subjects: number;
  readonly kind: PalmFraming;
  readonly channel: ModelChannels;
  readonly method: MethodName;
  readonly sessions?: readonly string[];
  readonly threads: number;
  readonly det?: string;
  /** Only the first N subject folders of a dataset (quick runs). */
  readonly limitSubjects?: number;
}

interface Capture {
  readonly subject: number;
  /** Capture session ("s1", "s2"), where the set has them. */
  readonly session?: string;
  readonly frame: () => PalmFrame | Promise<PalmFrame>;
}

interface Acquisition {
  readonly templates: Uint8Array[];
  readonly subjects: number[];
  readonly sessions: (string | undefined)[];
  readonly subjectCount: number;
  readonly attempts: number;
  readonly failures: Map<string, number>;
  readonly latenciesMs: number[];
}

const WARM_UP = 20;

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

/** Every capture through the extractor's acquisition (same ROIs for every method), then the method's encoder. */
const acquire = async (
  extractor: SignatureExtractor,
  encoder: TemplateEncoder,
  items: AsyncIterable<Capture>,
  subjectCount: number,
  progress: (done: number) => void,
): Promise<Acquisition> => {
  const templates: Uint8Array[] = [],
    subjects: number[] = [],
    sessions: (string | undefined)[] = [],
    latenciesMs: number[] = [];
  const failures = new Map<string, number>();
  let attempts = 0;
  for await (const item of items) {
    attempts++;
    let frame: PalmFrame | undefined;
    try {
      frame = await item.frame();
      const t0 = performance.now();
      const roi = extractor.acquireRoi(frame);
      try {
        templates.push(await encoder.encode(roi));
      } finally {
        roi.visible?.fill(0);
        roi.nir?.fill(0);
      }
      latenciesMs.push(performance.now() - t0);
      subjects.push(item.subject);
      sessions.push(item.session);
    } catch (e) {
      const tag = e as { _tag?: string; reason?: string; name?: string; message?: string };
      const key = tag._tag === undefined ? `${tag.name ?? "Error"}: ${tag.message ?? ""}` : tag.reason === undefined ? tag._tag : `${tag._tag}(${tag.reason})`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    } finally {
      frame?.visible.fill(0);
      frame?.nir?.fill(0);
    }
    if (attempts % 100 === 0) progress(attempts);
  }
  return { templates, subjects, sessions, subjectCount, attempts, failures, latenciesMs };
};

const fixed = (x: number, digits = 6) => Number(x.toFixed(digits));

/** Count of ascending scores strictly below t. */
const countBelow = (ascending: Float32Array, t: number): number => {
  let lo = 0,
    hi = ascending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ascending[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** Which captures are compared: all-vs-all, within one session, or gallery session vs probe session. */
const protocolSplit = (a: Acquisition, sessions: readonly string[] | undefined) => {
  const indices = (session: string) => a.sessions.flatMap((s, i) => (s === session ? [i] : []));
  if (sessions === undefined) return { name: "all-vs-all", select: undefined, split: undefined };
  if (sessions.length === 1) return { name: `all-vs-all within session ${sessions[0]}`, select: indices(sessions[0]!), split: undefined };
  return {
    name: `gallery ${sessions[0]} x probes ${sessions[1]}`,
    select: undefined,
    split: { gallery: indices(sessions[0]!), probes: indices(sessions[1]!) },
  };
};

const reportVerification = async (title: string, acquired: Acquisition, o: EvaluationOptions): Promise<number> => {
  const log = (s: string) => console.log(s);
  const protocol = protocolSplit(acquired, o.sessions);
  // Within one session: keep only that session's captures (failures to acquire stay counted).
  const a =
    protocol.select === undefined
      ? acquired
      : {
          ...acquired,
          templates: protocol.select.map((i) => acquired.templates[i]!),
          subjects: protocol.select.map((i) => acquired.subjects[i]!),
          sessions: protocol.select.map((i) => acquired.sessions[i]),
        };
  log(`palmline evaluation: ${title}, method ${o.method}, ${protocol.name}`);
  log(
    `  subjects ${a.subjectCount}, images ${a.attempts}, acquired ${acquired.templates.length}, compared ${a.templates.length}, probe ${a.templates[0]?.byteLength ?? 0} bytes`,
  );
  for (const [reason, n] of a.failures) log(`  failed to acquire: ${reason} x${n}`);
  if (protocol.split !== undefined && (protocol.split.gallery.length === 0 || protocol.split.probes.length === 0)) {
    console.error(`no captures in session ${protocol.split.gallery.length === 0 ? o.sessions![0] : o.sessions![1]}`);
    return 1;
  }
  const t0 = performance.now();
  const started = Date.now();
  let shown = 0;
  const c = await scorePairs({
    method: o.method,
    templates: a.templates,
    subjects: a.subjects,
    ...(protocol.split === undefined ? {} : { split: protocol.split }),
    threads: o.threads,
    progress: (done, total) => {
      const s = (Date.now() - started) / 1000;
      if (done < total && Date.now() - shown < 2000) return;
      shown = Date.now();
      process.stderr.write(
        `  ... ${done} / ${total} pairs, ${(done / Math.max(s, 1e-3) / 1000).toFixed(0)}k pairs/s, ${((total - done) / Math.max(done / s, 1)).toFixed(0)} s left   \r`,
      );
    },
  });
  process.stderr.write("\n");
  const { genuine, impostors } = c;
  log(`  comparisons: ${genuine.length} genuine, ${impostors.length} impostor (${((performance.now() - t0) / 1000).toFixed(1)} s on ${o.threads} threads)`);
  const eer = equalErrorRate(genuine, impostors);
  const fmrs = [1e-3, 1e-4, 1e-6] as const;
  const points = fmrs.map((f) => resolvedOperatingPointAtFmr(genuine, impostors, f));
  const dp = genuine.length > 0 && impostors.length > 0 ? dPrime(genuine, impostors) : NaN;
  const rank1 = c.rank1Probes === 0 ? NaN : c.rank1Hits / c.rank1Probes;
  const fta = a.attempts === 0 ? 0 : (a.attempts - acquired.templates.length) / a.attempts;
  const pct = (x: number) => `${(100 * x).toFixed(4)}%`;
  log(`  EER ${pct(eer.eer)} at score ${eer.threshold.toFixed(4)}; d-prime ${dp.toFixed(3)}`);
  fmrs.forEach((f, k) => {
    const p = points[k];
    log(
      p === null || p === undefined
        ? `  FNMR at FMR ${f.toExponential(0)}: not resolved (${impostors.length} impostor pairs < ${IMPOSTORS_PER_INVERSE_FMR} / FMR)`
        : `  FNMR ${pct(p.fnmr)} at FMR ${f.toExponential(0)} (threshold ${p.threshold.toFixed(4)})`,
    );
  });
  log(`  rank-1 identification ${pct(rank1)} over ${c.rank1Probes} probes`);
  log(`  failure to acquire ${pct(fta)}`);
  if (genuine.length > 0) log(`  genuine scores: min ${genuine[0]!.toFixed(4)}, median ${genuine[genuine.length >> 1]!.toFixed(4)}`);
  if (impostors.length > 0)
    log(`  impostor scores: median ${impostors[impostors.length >> 1]!.toFixed(4)}, max ${impostors[impostors.length - 1]!.toFixed(4)}`);
  if (a.latenciesMs.length > WARM_UP) {
    // Steady state: the first extractions pay for JIT compilation and onnxruntime's first runs.
    const l = a.latenciesMs.slice(WARM_UP).sort((x, y) => x - y);
    log(
      `  frame -> template: p50 ${percentile(l, 0.5).toFixed(2)} ms, p99 ${percentile(l, 0.99).toFixed(2)} ms over ${l.length} frames after ${WARM_UP} warm-up (one intra-op thread)`,
    );
  }
  const tail = impostors.length >= 30_000 ? fitImpostorTail(impostors) : undefined;
  if (tail !== undefined) {
    log(
      `  impostor tail fitted on this run (generalised Pareto above the top ${tail.exceedance.toExponential(1)}): threshold ${tail.threshold.toFixed(4)}, shape ${tail.shape.toFixed(4)}, scale ${tail.scale.toFixed(5)}; bulk mean ${tail.mean.toFixed(4)}, sigma ${tail.sigma.toFixed(4)}`,
    );
    const check = (name: string, calibration: ScoreCalibration) => {
      const rows = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
        .filter((f) => f * impostors.length >= 1)
        .map((f) => {
          const t = calibration.scoreForFalseMatchRate(f);
          return `FMR ${f.toExponential(0)}: score ${t.toFixed(4)}, predicted ${(f * impostors.length).toFixed(1)}, observed ${impostors.length - countBelow(impostors, t)}`;
        });
      log(`  ${name}: impostors at or above the model's score for each FMR`);
      for (const r of rows) log(`    ${r}`);
    };
    check("fitted tail", impostorTailCalibration(tail));
    if (o.method === "palmline") check("deployed calibration (two-channel probes)", deployedScoreCalibration);
  }
  if (o.det !== undefined) {
    writeFileSync(o.det, await drawDetCurve(detCurve(genuine, impostors), eer.eer));
    log(`  DET curve written to ${o.det}`);
  }
  const at = (k: number) => (points[k] === null ? null : fixed(points[k]!.fnmr, 8));
  console.log(
    JSON.stringify({
      method: o.method,
      protocol: protocol.name,
      channel: o.channel,
      subjects: a.subjectCount,
      images: a.attempts,
      // What one capture sends to be matched (palmline: the stored template and its probe variants).
      probeBytes: a.templates[0]?.byteLength ?? 0,
      genuineComparisons: genuine.length,
      impostorComparisons: impostors.length,
      failureToAcquireRate: fixed(fta),
      eer: fixed(eer.eer, 8),
      dPrime: fixed(dp, 4),
      fnmrAtFmr1e3: at(0),
      fnmrAtFmr1e4: at(1),
      fnmrAtFmr1e6: at(2),
      rank1: fixed(rank1),
      ...(tail === undefined
        ? {}
        : {
            impostorTail: {
              threshold: fixed(tail.threshold),
              exceedance: tail.exceedance,
              shape: fixed(tail.shape),
              scale: fixed(tail.scale),
              mean: fixed(tail.mean),
              sigma: fixed(tail.sigma),
            },
          }),
    }),
  );
  return 0;
};

async function* syntheticCaptures(subjects: number, captures: number, attack?: PresentationAttack) {
  const sensor = new SimulatedPalmSensor({ seed: 0xe7a1 });
  for (let s = 0; s < subjects; s++) {
    const hand = { subjectSeed: SYNTHETIC_EVAL_SEED_BASE + (s >> 1), side: s % 2 === 0 ? "right" : "left" } as const;
    sensor.present(attack === undefined ? hand : { ...hand, attack });
    for (let k = 0; k < captures; k++) yield { subject: s, frame: () => sensor.capture() };
  }
}

async function* datasetCaptures(root: string, channel: ModelChannels, limitSubjects?: number): AsyncGenerator<Capture> {
  const images = listDataset(root, limitSubjects);
  const ids = new Map<string, number>();
  for (const image of images) {
    if (!ids.has(image.subject)) ids.set(image.subject, ids.size);
    yield {
      subject: ids.get(image.subject)!,
      ...(image.session === undefined ? {} : { session: image.session }),
      frame: () => readDatasetFrame(image, channel),
    };
  }
}

const runPad = async (o: EvaluationOptions): Promise<number> => {
  const extractor = await SignatureExtractor.load(undefined, { framing: "hand" });
  try {
    const kinds: (PresentationAttack | "bona-fide")[] = ["bona-fide", "printed-photo", "screen-replay", "veinless-replica"];
    const scores = new Map<string, number[]>();
    const unacquired = new Map<string, number>();
    for (const kind of kinds) {
      const list: number[] = [];
      for await (const item of syntheticCaptures(o.subjects, 1, kind === "bona-fide" ? undefined : kind)) {
        const frame = await item.frame();
        try {
          const a = extractor.assessLiveness(frame);
          if (a !== undefined) list.push(a.score);
        } catch {
          unacquired.set(kind, (unacquired.get(kind) ?? 0) + 1);
        } finally {
          frame.visible.fill(0);
          frame.nir?.fill(0);
        }
      }
      scores.set(kind, list);
    }
    const bona = scores.get("bona-fide") ?? [];
    const atOnePercent = thresholdAtBpcer(bona, 0.01);
    console.log(`palmline PAD evaluation: ${o.subjects} synthetic subjects, one presentation per subject and kind`);
    console.log(`  liveness threshold ${LIVENESS_THRESHOLD} (deployed); threshold for BPCER 1% on this set ${atOnePercent.toFixed(4)}`);
    console.log(
      `  bona fide: ${bona.length} assessed, ${unacquired.get("bona-fide") ?? 0} not acquired, BPCER ${(100 * bpcer(bona, LIVENESS_THRESHOLD)).toFixed(2)}%`,
    );
    const apcers: Record<string, number> = {};
    for (const kind of kinds.slice(1)) {
      // An attack that cannot even be acquired is not accepted: count it as correctly rejected.
      const list = [...(scores.get(kind) ?? []), ...Array<number>(unacquired.get(kind) ?? 0).fill(-Infinity)];
      apcers[kind] = fixed(apcer(list, LIVENESS_THRESHOLD));
      console.log(
        `  ${kind}: ${list.length} presentations (${unacquired.get(kind) ?? 0} not acquired), APCER ${(100 * apcer(list, LIVENESS_THRESHOLD)).toFixed(2)}% (at BPCER-1% threshold ${(100 * apcer(list, atOnePercent)).toFixed(2)}%)`,
      );
    }
    console.log(
      JSON.stringify({
        subjects: o.subjects,
        bonaFidePresentations: bona.length,
        bpcer: fixed(bpcer(bona, LIVENESS_THRESHOLD)),
        apcer: apcers,
        livenessThreshold: LIVENESS_THRESHOLD,
      }),
    );
    return 0;
  } finally {
    await extractor.close();
  }
};

export async function runEvaluation(o: EvaluationOptions): Promise<number> {
  if (o.pad) return runPad(o);
  const progress = (done: number) => process.stderr.write(`  ... ${done} images\r`);
  const framing = o.synthetic !== undefined ? "hand" : o.kind;
  const extractor = await SignatureExtractor.load(undefined, { framing, channels: o.channel, liveness: o.synthetic !== undefined });
  const encoder = await loadEncoder(o.method, extractor);
  try {
    if (o.synthetic !== undefined) {
      const a = await acquire(extractor, encoder, syntheticCaptures(o.synthetic, o.captures), o.synthetic, progress);
      return await reportVerification(`${o.synthetic} synthetic subjects x ${o.captures} captures, channel ${o.channel}`, a, o);
    }
    const root = o.dataset!;
    const subjects = new Set(listDataset(root, o.limitSubjects).map((i) => i.subject)).size;
    const a = await acquire(extractor, encoder, datasetCaptures(root, o.channel, o.limitSubjects), subjects, progress);
    return await reportVerification(`dataset ${root} (${o.kind === "hand" ? "hand" : "roi"}, ${o.channel})`, a, o);
  } finally {
    await encoder.close();
    await extractor.close();
  }
}
