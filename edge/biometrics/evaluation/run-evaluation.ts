// `npm run eval`: accuracy of the palm pipeline measured the way vendors report it.
//
//   --dataset DIR [--kind roi|hand] [--channel visible|nir]   images DIR/<subject>/<image>
//   --synthetic N [--captures K] [--channel fused|visible|nir] N synthetic palms, K captures each
//   --pad [--subjects N]                                       presentation-attack detection
//   --det FILE.png                                             also draw the DET curve
//
// Prints a readable report and, last, one JSON line.
import { writeFileSync } from "node:fs";
import type { PalmFrame } from "../../../hardware/palm-sensor.ts";
import { SimulatedPalmSensor, type PresentationAttack } from "../../../hardware/simulated-palm-sensor.ts";
import type { PalmSignature } from "../../../core/palm-signature.ts";
import { dPrime, detCurve, equalErrorRate, falseMatchRate, falseNonMatchRate, operatingPointAtFmr } from "../../../core/verification-metrics.ts";
import { apcer, bpcer, thresholdAtBpcer } from "../../../core/presentation-attack-metrics.ts";
import { SignatureExtractor, type ModelChannels, type PalmFraming } from "../signature-extractor.ts";
import { LIVENESS_THRESHOLD } from "../liveness-check.ts";
import { compareAll } from "./score-matrix.ts";
import { rerankWithFineScore } from "./fine-rerank.ts";
import { FINE_MATCH_THRESHOLD, FINE_SHORTLIST_THRESHOLD } from "../../../core/fine-palm-comparison.ts";
import { MATCH_THRESHOLD } from "../../../core/match-threshold.ts";
import { listDataset, readDatasetFrame } from "./dataset-folder.ts";
import { drawDetCurve } from "./det-plot.ts";

/** Synthetic evaluation subjects start here: no seed at or above it was used to tune anything. */
export const SYNTHETIC_EVAL_SEED_BASE = 3_000_000;

interface Options {
  readonly dataset?: string;
  readonly synthetic?: number;
  readonly captures: number;
  readonly pad: boolean;
  readonly subjects: number;
  readonly kind: PalmFraming;
  readonly channel: ModelChannels;
  readonly det?: string;
}

const USAGE = `usage: palmline eval --dataset DIR [--kind roi|hand] [--channel visible|nir] [--det FILE.png]
       palmline eval --synthetic N [--captures K] [--channel fused|visible|nir] [--det FILE.png]
       palmline eval --pad [--subjects N]`;

const parse = (argv: readonly string[]): Options | string => {
  const o: { -readonly [K in keyof Options]?: Options[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
      return n;
    };
    try {
      if (flag === "--dataset") o.dataset = value();
      else if (flag === "--synthetic") o.synthetic = count();
      else if (flag === "--captures") o.captures = count();
      else if (flag === "--subjects") o.subjects = count();
      else if (flag === "--pad") o.pad = true;
      else if (flag === "--det") o.det = value();
      else if (flag === "--kind") {
        const k = value();
        if (k !== "roi" && k !== "hand") return `--kind must be roi or hand`;
        o.kind = k === "roi" ? "palm-crop" : "hand";
      } else if (flag === "--channel") {
        const c = value();
        if (c !== "visible" && c !== "nir" && c !== "fused") return `--channel must be visible, nir or fused`;
        o.channel = c;
      } else return `unknown argument ${flag}`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  const modes = [o.dataset !== undefined, o.synthetic !== undefined, o.pad === true].filter(Boolean).length;
  if (modes !== 1) return "give exactly one of --dataset, --synthetic, --pad";
  return {
    ...o,
    captures: o.captures ?? 6,
    pad: o.pad ?? false,
    subjects: o.subjects ?? 200,
    kind: o.kind ?? (o.dataset !== undefined ? "palm-crop" : "hand"),
    channel: o.channel ?? (o.dataset !== undefined ? "visible" : "fused"),
  };
};

interface Acquisition {
  readonly signatures: PalmSignature[];
  readonly subjects: number[];
  readonly subjectCount: number;
  readonly attempts: number;
  readonly failures: Map<string, number>;
  readonly latenciesMs: number[];
}

const WARM_UP = 20;
/** First-stage candidates per probe that the fine comparison re-ranks for identification. */
const RERANK_CANDIDATES = 3;

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

const acquire = async (
  extractor: SignatureExtractor,
  items: AsyncIterable<{ subject: number; frame: () => PalmFrame | Promise<PalmFrame> }>,
  subjectCount: number,
  progress: (done: number) => void,
): Promise<Acquisition> => {
  const signatures: PalmSignature[] = [], subjects: number[] = [], latenciesMs: number[] = [];
  const failures = new Map<string, number>();
  let attempts = 0;
  for await (const item of items) {
    attempts++;
    let frame: PalmFrame | undefined;
    try {
      frame = await item.frame();
      const t0 = performance.now();
      const signature = await extractor.extract(frame);
      latenciesMs.push(performance.now() - t0);
      signatures.push(signature);
      subjects.push(item.subject);
    } catch (e) {
      const tag = (e as { _tag?: string; reason?: string; name?: string; message?: string });
      const key = tag._tag === undefined ? `${tag.name ?? "Error"}: ${tag.message ?? ""}` : tag.reason === undefined ? tag._tag : `${tag._tag}(${tag.reason})`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    } finally {
      frame?.visible.fill(0);
      frame?.nir?.fill(0);
    }
    if (attempts % 500 === 0) progress(attempts);
  }
  return { signatures, subjects, subjectCount, attempts, failures, latenciesMs };
};

const fixed = (x: number, digits = 6) => Number(x.toFixed(digits));

const reportVerification = async (title: string, a: Acquisition, det: string | undefined): Promise<number> => {
  const log = (s: string) => console.log(s);
  log(`palmline evaluation: ${title}`);
  log(`  subjects ${a.subjectCount}, images ${a.attempts}, acquired ${a.signatures.length}`);
  for (const [reason, n] of a.failures) log(`  failed to acquire: ${reason} x${n}`);
  const t0 = performance.now();
  const c = await compareAll(a.signatures, a.subjects, { shortlist: FINE_SHORTLIST_THRESHOLD, candidates: RERANK_CANDIDATES });
  const genuine = Float64Array.from(c.genuine).sort();
  const impostors = c.impostors.sort();
  log(`  comparisons: ${genuine.length} genuine, ${impostors.length} impostor (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const eer = equalErrorRate(genuine, impostors);
  const at3 = operatingPointAtFmr(genuine, impostors, 1e-3);
  const at4 = operatingPointAtFmr(genuine, impostors, 1e-4);
  const dp = genuine.length > 0 && impostors.length > 0 ? dPrime(genuine, impostors) : NaN;
  const rank1 = c.rank1Probes === 0 ? NaN : c.rank1Hits / c.rank1Probes;
  const fta = a.attempts === 0 ? 0 : (a.attempts - a.signatures.length) / a.attempts;
  const pct = (x: number) => `${(100 * x).toFixed(4)}%`;
  log(`  EER ${pct(eer.eer)} at score ${eer.threshold.toFixed(4)}`);
  log(`  FNMR ${pct(at3.fnmr)} at FMR 1e-3 (threshold ${at3.threshold.toFixed(4)})`);
  log(`  FNMR ${pct(at4.fnmr)} at FMR 1e-4 (threshold ${at4.threshold.toFixed(4)})`);
  log(`  rank-1 identification ${pct(rank1)} over ${c.rank1Probes} probes; d-prime ${dp.toFixed(3)}`);
  log(`  failure to acquire ${pct(fta)}`);
  if (genuine.length > 0) log(`  genuine scores: min ${genuine[0]!.toFixed(4)}, median ${percentile(Array.from(genuine), 0.5).toFixed(4)}`);
  if (impostors.length > 0) log(`  impostor scores: median ${impostors[impostors.length >> 1]!.toFixed(4)}, max ${impostors[impostors.length - 1]!.toFixed(4)}`);
  if (a.latenciesMs.length > WARM_UP) {
    // Steady state: the first extractions pay for JIT compilation and onnxruntime's first runs.
    const l = a.latenciesMs.slice(WARM_UP).sort((x, y) => x - y);
    log(`  frame -> signature: p50 ${percentile(l, 0.5).toFixed(2)} ms, p99 ${percentile(l, 0.99).toFixed(2)} ms over ${l.length} frames after ${WARM_UP} warm-up (one intra-op thread)`);
  }
  const t1 = performance.now();
  const fine = rerankWithFineScore(a.signatures, a.subjects, c, impostors, FINE_SHORTLIST_THRESHOLD);
  const fineEer = equalErrorRate(fine.genuine, fine.impostors);
  const fine3 = operatingPointAtFmr(fine.genuine, fine.impostors, 1e-3);
  const fine4 = operatingPointAtFmr(fine.genuine, fine.impostors, 1e-4);
  const fineRank1 = c.rank1Probes === 0 ? NaN : fine.rank1Hits / c.rank1Probes;
  log(`  re-ranked (pairs with cosine >= ${FINE_SHORTLIST_THRESHOLD} re-scored by finePalmScore, top ${RERANK_CANDIDATES} per probe; ${fine.rescored} fine comparisons, ${((performance.now() - t1) / 1000).toFixed(1)} s):`);
  log(`    EER ${pct(fineEer.eer)} at score ${fineEer.threshold.toFixed(4)}`);
  log(`    FNMR ${pct(fine3.fnmr)} at FMR 1e-3 (threshold ${fine3.threshold.toFixed(4)})`);
  log(`    FNMR ${pct(fine4.fnmr)} at FMR 1e-4 (threshold ${fine4.threshold.toFixed(4)}; deployed FINE_MATCH_THRESHOLD ${FINE_MATCH_THRESHOLD}: FMR ${falseMatchRate(fine.impostors, FINE_MATCH_THRESHOLD).toExponential(2)}, FNMR ${pct(falseNonMatchRate(fine.genuine, FINE_MATCH_THRESHOLD))})`);
  log(`    rank-1 identification ${pct(fineRank1)}`);
  log(`  first stage at deployed MATCH_THRESHOLD ${MATCH_THRESHOLD}: FMR ${falseMatchRate(impostors, MATCH_THRESHOLD).toExponential(2)}, FNMR ${pct(falseNonMatchRate(genuine, MATCH_THRESHOLD))}`);
  if (det !== undefined) {
    writeFileSync(det, await drawDetCurve(detCurve(genuine, impostors), eer.eer));
    log(`  DET curve written to ${det}`);
  }
  console.log(
    JSON.stringify({
      subjects: a.subjectCount,
      images: a.attempts,
      genuineComparisons: genuine.length,
      impostorComparisons: impostors.length,
      failureToAcquireRate: fixed(fta),
      eer: fixed(eer.eer, 8),
      fnmrAtFmr1e3: fixed(at3.fnmr, 8),
      fnmrAtFmr1e4: fixed(at4.fnmr, 8),
      rank1: fixed(rank1),
      dPrime: fixed(dp, 4),
      reranked: {
        shortlist: FINE_SHORTLIST_THRESHOLD,
        candidates: RERANK_CANDIDATES,
        eer: fixed(fineEer.eer, 8),
        fnmrAtFmr1e3: fixed(fine3.fnmr, 8),
        fnmrAtFmr1e4: fixed(fine4.fnmr, 8),
        rank1: fixed(fineRank1),
      },
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

async function* datasetCaptures(root: string, channel: ModelChannels) {
  const images = listDataset(root);
  const ids = new Map<string, number>();
  for (const image of images) {
    if (!ids.has(image.subject)) ids.set(image.subject, ids.size);
    yield {
      subject: ids.get(image.subject)!,
      frame: () => readDatasetFrame(image, channel),
    };
  }
}

const runPad = async (o: Options): Promise<number> => {
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
    console.log(`  bona fide: ${bona.length} assessed, ${unacquired.get("bona-fide") ?? 0} not acquired, BPCER ${(100 * bpcer(bona, LIVENESS_THRESHOLD)).toFixed(2)}%`);
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

export async function runEvaluation(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (typeof o === "string") {
    console.error(`${o}\n${USAGE}`);
    return 2;
  }
  if (o.pad) return runPad(o);
  const progress = (done: number) => process.stderr.write(`  ... ${done} images\r`);
  if (o.synthetic !== undefined) {
    const extractor = await SignatureExtractor.load(undefined, { framing: "hand", channels: o.channel });
    try {
      const a = await acquire(extractor, syntheticCaptures(o.synthetic, o.captures), o.synthetic, progress);
      return await reportVerification(`${o.synthetic} synthetic subjects x ${o.captures} captures, channel ${o.channel}`, a, o.det);
    } finally {
      await extractor.close();
    }
  }
  const root = o.dataset!;
  const subjects = new Set(listDataset(root).map((i) => i.subject)).size;
  const extractor = await SignatureExtractor.load(undefined, { framing: o.kind, channels: o.channel, liveness: false });
  try {
    const a = await acquire(extractor, datasetCaptures(root, o.channel), subjects, progress);
    return await reportVerification(`dataset ${root} (${o.kind === "hand" ? "hand" : "roi"}, ${o.channel})`, a, o.det);
  } finally {
    await extractor.close();
  }
}
