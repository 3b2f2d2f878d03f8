// `palmline eval --open-set --gallery N`: identification among N as a deployment sees it. N
// simulated palms enrolled through the real pipeline (rendered frames -> probe -> enrollment's
// choice of capture; cached: edge/biometrics/evaluation/open-set-population.ts), and optionally
// single-capture palms (one rendered capture's template each, `--single-captures`) fill a real region
// (cli/evaluation-region.ts); then new captures of enrolled palms (mated) and palms never enrolled
// (non-mated) go through the region's identifier and its decision policy.
//
// Each enrolled identity gets a phone whose last four digits are drawn at random, so a step-up is
// resolved as at a scanner: a mated person types their own digits (refused when a close neighbour
// shares them); a stranger does not know whose palm theirs resembles, so a non-mated step-up is
// counted, with the chance that guessing gets through (at most candidates x attempts / 10^4).
//
// The expected FPIR at 1M and 10M comes from a model of the impostor tail (core/score-
// calibration.ts, fitImpostorTail), fitted on every non-mated probe scored against a sample of the
// gallery: FPIR(N) = N x FMR(accept score at N) + N x FMR(step-up floor at N) x k x A / 10^4. A
// fitted negative shape is a bounded tail whose endpoint rests on a few dozen excesses, no ground
// for rates of 1e-10; the model clamps the shape at 0 (an exponential excess), as the deployed
// calibration does, and the JSON gives the fitted shape beside it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enrollmentAgreementScore, IdentificationPolicy } from "../core/identification-policy.ts";

import { decodePalmProbe, decodePalmTemplate } from "../core/palm-template.ts";
import { deployedScoreCalibration, fitImpostorTail, impostorTailCalibration } from "../core/score-calibration.ts";
import { openSetPopulation } from "../edge/biometrics/evaluation/open-set-population.ts";
import { scorePairs } from "../edge/biometrics/evaluation/pair-scoring.ts";
import { SeededRandom } from "../hardware/synthetic-palm/seeded-random.ts";
import { openEvaluationRegion } from "./evaluation-region.ts";

export interface OpenSetOptions {
  readonly gallery: number;
  /** Single-capture palms added to the gallery (open-set-population.ts, `singleCaptures`). */
  readonly singleCaptures: number;
  readonly mated: number;
  readonly nonMated: number;
  readonly threads: number;
  /** Gallery templates each non-mated probe is scored against for the tail model. */
  readonly tailGallery: number;
}

const log = (line: string) => process.stderr.write(`[open-set ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

export const runOpenSetEvaluation = async (o: OpenSetOptions): Promise<number> => {
  const policy = new IdentificationPolicy({ calibration: deployedScoreCalibration });
  const population = await openSetPopulation({
    gallery: o.gallery,
    mated: o.mated,
    nonMated: o.nonMated,
    singleCaptures: o.singleCaptures,
    agreeScore: enrollmentAgreementScore(policy.calibration),
    threads: o.threads,
    progress: (stage, done, total) => log(`${stage}: ${done}/${total} palms`),
  });
  const enrolled = population.gallery.length;
  const dataDir = mkdtempSync(join(tmpdir(), "palmline-open-set-"));
  try {
    const region = await openEvaluationRegion({
      dataDir,
      templates: population.gallery.map((bytes) => decodePalmTemplate(bytes)),
      count: enrolled,
      shardCount: 2,
      policy,
      log,
    });
    const random = new SeededRandom(0x0d1c17);
    const digits = region.ids.map(() => random.int(0, 9_999));
    const digitsOf = new Map(region.ids.map((id, i) => [id as string, digits[i]!]));
    try {
      // Mated: a new capture of an enrolled palm.
      let matched = 0,
        wrong = 0,
        stepUps = 0,
        stepUpAccepted = 0,
        missed = 0;
      for (const [k, { palm, probe }] of population.mated.entries()) {
        const trueId = region.ids[palm]!;
        const decision = await region.identifier.identify(decodePalmProbe(probe));
        if (decision.outcome === "match") decision.identityId === trueId ? matched++ : wrong++;
        else if (decision.outcome === "no-match") missed++;
        else {
          stepUps++;
          const own = digits[palm]!;
          const resolved = policy.resolveStepUp(decision.stepUp, (id) => digitsOf.get(id) === own);
          if (resolved.outcome === "accepted" && resolved.identityId === trueId) stepUpAccepted++;
          else if (resolved.outcome === "accepted") wrong++;
        }
        if ((k + 1) % 1_000 === 0) log(`mated: ${k + 1}/${population.mated.length} identified`);
      }
      const matedAttempts = population.mated.length + population.failuresToAcquire.mated;
      // Non-mated: palms never enrolled.
      let falseMatches = 0,
        nonMatedStepUps = 0,
        guessable = 0;
      for (const [k, probe] of population.nonMated.entries()) {
        const decision = await region.identifier.identify(decodePalmProbe(probe));
        if (decision.outcome === "match") falseMatches++;
        if (decision.outcome === "step-up") {
          nonMatedStepUps++;
          guessable += (decision.stepUp.candidates.length * policy.attempts) / policy.digitSpace;
        }
        if ((k + 1) % 1_000 === 0) log(`non-mated: ${k + 1}/${population.nonMated.length} identified`);
      }
      const nonMatedAttempts = population.nonMated.length;
      const thresholds = policy.thresholds(enrolled);

      // The tail model: every non-mated probe against a sample of the gallery (as 1-variant probes).
      const sample = Math.min(o.tailGallery, enrolled);
      const galleryAsProbes = population.gallery.slice(0, sample).map((t) => Uint8Array.of(1, ...t));
      log(`tail model: ${nonMatedAttempts} non-mated probes x ${sample} gallery templates`);
      let lastLog = 0;
      const scored = await scorePairs({
        method: "palmline",
        templates: [...population.nonMated, ...galleryAsProbes],
        subjects: [...population.nonMated.map((_, i) => i), ...galleryAsProbes.map((_, i) => nonMatedAttempts + i)],
        split: { probes: population.nonMated.map((_, i) => i), gallery: galleryAsProbes.map((_, i) => nonMatedAttempts + i) },
        threads: o.threads,
        progress: (done, total) => {
          if (performance.now() - lastLog < 10_000) return;
          lastLog = performance.now();
          log(`tail model: ${done}/${total} pairs`);
        },
      });
      // A tail needs 30 scores above its top 1e-3, i.e. 30,000 pairs; fewer give no model.
      const tail = scored.impostors.length >= MIN_TAIL_PAIRS ? fitImpostorTail(scored.impostors) : undefined;
      const model = tail === undefined ? undefined : impostorTailCalibration({ ...tail, shape: Math.max(0, tail.shape) });
      const modelledFpir = (n: number) => {
        if (model === undefined) return null;
        const t = policy.thresholds(n);
        const direct = n * model.falseMatchRate(t.acceptScore);
        const viaStepUp = (n * model.falseMatchRate(t.floorScore) * policy.maxCandidates * policy.attempts) / policy.digitSpace;
        return { direct, viaStepUp, total: direct + viaStepUp, acceptScore: t.acceptScore, floorScore: t.floorScore };
      };
      const observedAbove = (score: number) => scored.impostors.length - lowerBound(scored.impostors, score);
      const result = {
        gallery: enrolled,
        gallerySingleCaptures: population.singleCaptures,
        galleryFailedToEnroll: population.failuresToAcquire.gallery,
        mated: matedAttempts,
        nonMated: nonMatedAttempts,
        fpir: falseMatches / nonMatedAttempts,
        fnir: (matedAttempts - matched - stepUpAccepted) / matedAttempts,
        stepUpRate: stepUps / matedAttempts,
        nonMatedStepUpRate: nonMatedStepUps / nonMatedAttempts,
        fpirWithGuessedDigits: (falseMatches + guessable) / nonMatedAttempts,
        misidentified: wrong,
        matedOutcomes: {
          matched,
          stepUpAccepted,
          stepUpRefused: stepUps - stepUpAccepted,
          noMatch: missed,
          failedToAcquire: population.failuresToAcquire.mated,
        },
        thresholds: { acceptScore: round(thresholds.acceptScore), floorScore: round(thresholds.floorScore) },
        impostorTail:
          tail === undefined
            ? null
            : {
                pairs: scored.impostors.length,
                threshold: round(tail.threshold),
                fittedShape: round(tail.shape),
                modelShape: round(Math.max(0, tail.shape)),
                scale: round(tail.scale),
                mean: round(tail.mean),
                sigma: round(tail.sigma),
              },
        tailCheck:
          model === undefined
            ? []
            : [1e-3, 1e-4, 1e-5, 1e-6]
                .filter((fmr) => fmr * scored.impostors.length >= 1)
                .map((fmr) => {
                  const score = model.scoreForFalseMatchRate(fmr);
                  return { fmr, score: round(score), predicted: round(fmr * scored.impostors.length, 1), observed: observedAbove(score) };
                }),
        modelledFpir: { at1M: modelledFpir(1_000_000), at10M: modelledFpir(10_000_000) },
      };
      console.log(
        `palmline open-set evaluation: ${enrolled} enrolled (${enrolled - population.singleCaptures} from three captures, ${population.failuresToAcquire.gallery} palms failed to; ${population.singleCaptures} single-capture palms), ${matedAttempts} mated and ${nonMatedAttempts} non-mated probes`,
      );
      console.log(
        `  non-mated: ${falseMatches} accepted (FPIR ${result.fpir}), ${nonMatedStepUps} step-ups (guessing the digits gets through with expected ${guessable.toFixed(3)} of them)`,
      );
      console.log(
        `  mated: ${matched} matched, ${stepUps} step-ups (${stepUpAccepted} accepted by the person's digits), ${missed} no match, ${population.failuresToAcquire.mated} failed to acquire, ${wrong} given to someone else`,
      );
      console.log(
        `  FNIR ${(100 * result.fnir).toFixed(3)}%, step-up rate ${(100 * result.stepUpRate).toFixed(3)}%; thresholds at N ${enrolled}: accept ${result.thresholds.acceptScore}, floor ${result.thresholds.floorScore}`,
      );
      if (result.impostorTail === null)
        console.log(`  impostor tail: ${scored.impostors.length} pairs are too few to fit one (${MIN_TAIL_PAIRS} needed): no modelled FPIR`);
      else
        console.log(
          `  impostor tail on ${scored.impostors.length} non-mated x gallery pairs: threshold ${result.impostorTail.threshold}, fitted shape ${result.impostorTail.fittedShape} (model: ${result.impostorTail.modelShape}), scale ${result.impostorTail.scale}`,
        );
      for (const c of result.tailCheck) console.log(`    FMR ${c.fmr}: score ${c.score}, predicted ${c.predicted}, observed ${c.observed}`);
      for (const [label, m] of [
        ["1M", result.modelledFpir.at1M],
        ["10M", result.modelledFpir.at10M],
      ] as const) {
        if (m === null) continue;
        console.log(
          `  modelled FPIR at ${label}: ${m.total.toExponential(2)} (direct ${m.direct.toExponential(2)} above ${m.acceptScore.toFixed(4)}, by guessed digits ${m.viaStepUp.toExponential(2)} above ${m.floorScore.toFixed(4)})`,
        );
      }
      console.log(JSON.stringify(result));
      return 0;
    } finally {
      await region.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
};

const round = (x: number, digits = 4) => Number(x.toFixed(digits));
const MIN_TAIL_PAIRS = 30_000;

/** First index whose value is >= x in an ascending array. */
const lowerBound = (ascending: ArrayLike<number>, x: number): number => {
  let lo = 0,
    hi = ascending.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ascending[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
