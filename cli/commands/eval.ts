// `palmline eval` (`npm run eval`): the evaluation's options, one row each, read into
// EvaluationOptions; the evaluation itself is edge/biometrics/evaluation/run-evaluation.ts, loaded
// only when it runs so --help stays quick. A new option is a row in `options`, a line in
// `optionHelp` and a line in `evaluationOptions`.
import { availableParallelism } from "node:os";
import type { EvaluationOptions } from "../../edge/biometrics/evaluation/run-evaluation.ts";
import { METHOD_NAMES } from "../../edge/biometrics/evaluation/pair-scorers.ts";
import type { OpenSetOptions } from "../open-set-evaluation.ts";
import { defineCommand, parseChoice, parsePositiveInt, parseWholeNumber, UsageError, type CommandSpec, type CommandValues } from "../command-line.ts";

const evalSpec = {
  name: "eval",
  summary: "measure palm-recognition accuracy on a dataset or on synthetic subjects",
  usage: [
    "palmline eval --dataset DIR [--kind roi|hand] [--channel visible|nir|fused] [--sessions S|G,P] [--limit-subjects N] [--method palmline|compcode] [--threads T] [--det FILE.png]",
    "       palmline eval --synthetic N [--captures K] [--channel fused|visible|nir] [--method palmline|compcode] [--threads T] [--det FILE.png]",
    "       palmline eval --pad [--subjects N]",
    "       palmline eval --open-set [--gallery N] [--single-captures S] [--mated M] [--non-mated K] [--tail-gallery G] [--threads T]",
  ].join("\n"),
  options: {
    dataset: { type: "string" },
    synthetic: { type: "string" },
    pad: { type: "boolean" },
    "open-set": { type: "boolean" },
    gallery: { type: "string" },
    "single-captures": { type: "string" },
    mated: { type: "string" },
    "non-mated": { type: "string" },
    "tail-gallery": { type: "string" },
    kind: { type: "string" },
    channel: { type: "string" },
    sessions: { type: "string" },
    "limit-subjects": { type: "string" },
    captures: { type: "string" },
    subjects: { type: "string" },
    method: { type: "string" },
    threads: { type: "string" },
    det: { type: "string" },
  },
  optionHelp: {
    dataset: "images in DIR/<subject>/<image> (one of --dataset, --synthetic, --pad, --open-set)",
    synthetic: "N synthetic palms from the simulated sensor",
    pad: "presentation-attack detection on simulated attacks",
    "open-set": "identification among --gallery enrolled simulated palms through the region's decision policy (renders are cached in .cache/open-set)",
    gallery: "palms enrolled from three rendered captures each for --open-set (default 20000)",
    "single-captures": "more gallery palms for --open-set, each enrolled from one rendered capture (default 0; the non-mated probes then stay under 10000)",
    mated: "new captures of enrolled palms for --open-set (default the smaller of 5000 and --gallery)",
    "non-mated": "palms never enrolled, one probe each, for --open-set (default 10000)",
    "tail-gallery": "gallery templates every non-mated probe is scored against to fit the impostor tail (default 200)",
    kind: "what a dataset's images show: roi (palm crops) or hand (default roi)",
    channel: "visible, nir or fused (default visible for a dataset, fused for synthetic)",
    sessions: "S: all pairs within session S; G,P: gallery from session G, probes from P (needs --dataset)",
    "limit-subjects": "only the first N subject folders of the dataset (quick runs)",
    captures: "captures per synthetic palm (default 6)",
    subjects: "subjects for --pad (default 200)",
    method: `the method scored: ${METHOD_NAMES.join(" or ")} (default palmline); both see the same ROIs`,
    threads: "pair-scoring threads (default: the machine's cores)",
    det: "also draw the DET curve into this PNG file",
  },
} as const satisfies CommandSpec<Record<string, { type: "string" | "boolean" }>>;

const KINDS = { roi: "palm-crop", hand: "hand" } as const;

/** The command line as the evaluation's options, with their defaults; a UsageError names the first bad one. */
const evaluationOptions = (values: CommandValues<typeof evalSpec.options>): EvaluationOptions => {
  const modes = [values.dataset !== undefined, values.synthetic !== undefined, values.pad === true, values["open-set"] === true].filter(Boolean).length;
  if (modes !== 1) throw new UsageError({ reason: "give exactly one of --dataset, --synthetic, --pad, --open-set" });
  for (const name of ["gallery", "single-captures", "mated", "non-mated", "tail-gallery"] as const) {
    if (values[name] !== undefined && values["open-set"] !== true) throw new UsageError({ reason: `--${name} needs --open-set` });
  }
  const fromDataset = values.dataset !== undefined;
  const sessions = values.sessions?.split(",");
  if (sessions !== undefined && !fromDataset) throw new UsageError({ reason: "--sessions needs --dataset" });
  if (sessions !== undefined && (sessions.length > 2 || sessions.some((s) => s === "")))
    throw new UsageError({ reason: "--sessions takes one session (within it) or gallery,probe" });
  return {
    ...(values.dataset !== undefined ? { dataset: values.dataset } : {}),
    ...(values.synthetic !== undefined ? { synthetic: parsePositiveInt("synthetic", values.synthetic, 1) } : {}),
    pad: values.pad === true,
    kind: KINDS[parseChoice("kind", values.kind, ["roi", "hand"], fromDataset ? "roi" : "hand")],
    channel: parseChoice("channel", values.channel, ["visible", "nir", "fused"], fromDataset ? "visible" : "fused"),
    ...(sessions !== undefined ? { sessions } : {}),
    ...(values["limit-subjects"] !== undefined ? { limitSubjects: parsePositiveInt("limit-subjects", values["limit-subjects"], 1) } : {}),
    captures: parsePositiveInt("captures", values.captures, 6),
    subjects: parsePositiveInt("subjects", values.subjects, 200),
    method: parseChoice("method", values.method, METHOD_NAMES, "palmline"),
    threads: parsePositiveInt("threads", values.threads, availableParallelism(), 1_024),
    ...(values.det !== undefined ? { det: values.det } : {}),
  };
};

const openSetOptions = (values: CommandValues<typeof evalSpec.options>): OpenSetOptions => {
  const gallery = parsePositiveInt("gallery", values.gallery, 20_000, 10_000_000);
  return {
    gallery,
    singleCaptures: values["single-captures"] === undefined ? 0 : parseWholeNumber("single-captures", values["single-captures"], 0, 10_000_000),
    mated: parsePositiveInt("mated", values.mated, Math.min(5_000, gallery), 10_000_000),
    nonMated: parsePositiveInt("non-mated", values["non-mated"], 10_000, 10_000_000),
    tailGallery: parsePositiveInt("tail-gallery", values["tail-gallery"], 200, 1_000_000),
    threads: parsePositiveInt("threads", values.threads, availableParallelism(), 1_024),
  };
};

export const evalCommand = defineCommand(evalSpec, async (values) => {
  const options = evaluationOptions(values);
  if (values["open-set"] === true) {
    const { runOpenSetEvaluation } = await import("../open-set-evaluation.ts");
    return runOpenSetEvaluation(openSetOptions(values));
  }
  const { runEvaluation } = await import("../../edge/biometrics/evaluation/run-evaluation.ts");
  return runEvaluation(options);
});
