// `npm run bench -- identify --enrolled N`: a region's identification among N enrolled palms.
//
// The region (cli/evaluation-region.ts: real registry with per-identity encryption, shards built
// from it as a node builds them at first start, PalmIdentifier with the deployed policy) holds N
// palm templates: rendered palms first (the open-set population's gallery, rendered through the
// simulated sensor and the real extractor, cached, then single-capture palms), then their mirror
// images (background-palms.ts). Measured through the identifier, as a scanner's probe would be:
//   - mated queries, new captures of the first enrolled rendered palms: recall@1 (the template
//     matcher's best candidate is the true identity) at the region's re-rank depth and at 8 to 64,
//     and the policy's outcome (match to the true identity, step-up, no-match, someone else);
//   - impostors, probes of rendered palms never enrolled, through the full policy;
//   - newcomers, other never-enrolled palms, enrolled through the real path (duplicate check);
//   - latency at concurrency 1, 8 and 64, and a real `palmline cloud` restart over the same data
//     directory (time to listening, resident memory).
// Whether mirrored palms have the rendered palms' impostor tail is measured on every run
// (backgroundTailCheck): where it is lighter, the impostor and newcomer figures understate false
// accepts. Progress on stderr; one JSON line on stdout.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PALM_VECTOR_DIMENSION } from "../../core/palm-template-vector.ts";
import { decodePalmProbe, type PalmProbe } from "../../core/palm-template.ts";
import { AlreadyEnrolled } from "../../core/errors.ts";
import { PalmIdentifier, RERANK_CANDIDATES } from "../../cloud/identification/palm-identifier.ts";
import { chooseIndexLayout, exactLayout, type IndexLayout } from "../../cloud/shards/index-layout.ts";
import { openEvaluationRegion } from "../../cli/evaluation-region.ts";
import { parsePositiveInt, UsageError } from "../../cli/command-line.ts";
import { BackgroundPalms, backgroundTailCheck, describeTailCheck, renderedBackground, renderedPalmsFor } from "./background-palms.ts";
import type { IdentifyBenchValues } from "./bench-commands.ts";

const repoRoot = join(import.meta.dirname, "..", "..");
const progress = (line: string) => process.stderr.write(`[identify ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** Starts `palmline cloud` on dataDir; resolves once it listens, with the time taken and its RSS. */
const timeRegionStart = (dataDir: string, shards: number) =>
  new Promise<{ ms: number; rssBytes: number; log: string[] }>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, "cli", "main.ts"), "cloud", "--port", "0", "--data", dataDir, "--shards", String(shards)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log: string[] = [];
    child.stderr.on("data", (d: Buffer) => log.push(d.toString()));
    createInterface({ input: child.stdout }).on("line", (line) => {
      log.push(line);
      if (!line.includes('"listening"')) return;
      const ms = performance.now() - started;
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      child.kill("SIGKILL");
      resolve({ ms, rssBytes: rssKb * 1024, log });
    });
    child.once("exit", (code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`palmline cloud exited (${code ?? signal}):\n${log.join("")}`));
    });
  });

const measureLatency = async (queries: readonly PalmProbe[], concurrency: number, identify: (q: PalmProbe) => Promise<unknown>) => {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < queries.length) {
        const q = queries[next++]!;
        const t = performance.now();
        await identify(q);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wall = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    perSecond: round((queries.length * 1000) / wall, 0),
  };
};

export const runIdentifyBench = async (values: IdentifyBenchValues) => {
  const enrolled = parsePositiveInt("enrolled", values.enrolled, 100_000, 1_000_000);
  const queryCount = parsePositiveInt("queries", values.queries, 1_000);
  const renderedWanted = Math.min(enrolled, parsePositiveInt("rendered", values.rendered, renderedPalmsFor(enrolled, queryCount), 1_000_000));
  const impostorCount = parsePositiveInt("impostors", values.impostors, 250, 100_000);
  const newcomerCount = parsePositiveInt("newcomers", values.newcomers, 200, 100_000);
  const tailProbes = parsePositiveInt("tail-probes", values["tail-probes"], 1_000, 100_000);
  const tailTemplates = parsePositiveInt("tail-templates", values["tail-templates"], 1_000, 1_000_000);
  const shardCount = parsePositiveInt("shards", values.shards, 2, 256);
  const forcedNprobe = values.nprobe === undefined ? undefined : parsePositiveInt("nprobe", values.nprobe, 1);
  const candidates = parsePositiveInt("candidates", values.candidates, RERANK_CANDIDATES);
  // Mirrored palms are built from rendered palms no query comes from (background-palms.ts).
  if (queryCount + 4 > renderedWanted)
    throw new UsageError({
      reason: `--queries must leave at least 4 of the ${renderedWanted} rendered palms unqueried (mirrored palms are built from them), got "${queryCount}"`,
    });
  const dataDir = values.data ?? mkdtempSync(join(tmpdir(), "palmline-bench-identify-"));
  progress(
    `enrolled=${enrolled} rendered=${renderedWanted} queries=${queryCount} impostors=${impostorCount} newcomers=${newcomerCount} shards=${shardCount} data=${dataDir}`,
  );

  // 1. Rendered palms (cached; rendered on first use): the gallery, mated and non-mated probes.
  let t = performance.now();
  const {
    population,
    templates: rendered,
    singleCaptures,
  } = await renderedBackground({
    rendered: renderedWanted,
    mated: queryCount,
    nonMated: Math.max(impostorCount + newcomerCount, tailProbes),
    threads: availableParallelism(),
    progress,
  });
  const renderSeconds = (performance.now() - t) / 1000;
  progress(
    `rendered palms: ${population.gallery.length - singleCaptures} enrolled (${population.failuresToAcquire.gallery} failed) and ${singleCaptures} single-capture palms, ${population.mated.length} mated and ${population.nonMated.length} non-mated probes; ${JSON.stringify(population.rendered)} rendered now, in ${renderSeconds.toFixed(1)} s`,
  );
  const background = new BackgroundPalms({ count: enrolled, rendered, sourcesFrom: Math.min(queryCount, population.gallery.length) });
  progress(`background: ${background.renderedCount} rendered (${singleCaptures} of them single-capture palms) + ${background.mirroredCount} mirrored`);

  // 2. Do derived palms have the rendered palms' impostor tail?
  t = performance.now();
  const tailCheck = backgroundTailCheck({ background, rendered, nonMated: population.nonMated.slice(0, tailProbes), templates: tailTemplates, progress });
  for (const line of describeTailCheck(tailCheck)) progress(line);
  progress(`background tail check took ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // 3. The region: registry filled, shards built as at a node's first start.
  const chosen = chooseIndexLayout(enrolled, shardCount, PALM_VECTOR_DIMENSION);
  const forced: IndexLayout | undefined =
    values.layout === undefined && forcedNprobe === undefined
      ? undefined
      : {
          description: values.layout ?? chosen.description,
          nprobe: forcedNprobe ?? chosen.nprobe,
          trainingSize: chosen.trainingSize || Math.min(enrolled, 60_000),
          // A forced layout other than the exact one is projected: compared by L2 (index-layout.ts).
          metric: (values.layout ?? chosen.description) === exactLayout.description ? "inner-product" : "l2",
        };
  const region = await openEvaluationRegion({
    dataDir,
    templates: background.templates(),
    count: enrolled,
    shardCount,
    candidates,
    log: progress,
    ...(forced === undefined ? {} : { layout: forced }),
  });
  progress(`fill ${(region.fillMs / 1000).toFixed(1)} s, shards built in ${(region.buildMs / 1000).toFixed(1)} s`);
  await region.region.snapshot();
  const { identifier, ids } = region;
  const layout = region.region.shards.layout;

  // 4. Mated queries: recall@1 and the policy's decision.
  const mated = population.mated.map(({ palm, probe }) => ({ identity: ids[palm]!, probe: decodePalmProbe(probe) }));
  const recallOf = async (id: PalmIdentifier) => {
    let hits = 0;
    for (const q of mated) if ((await id.closest(q.probe))?.identityId === q.identity) hits++;
    return hits / mated.length;
  };
  const recall = await recallOf(identifier);
  const matedOutcomes = { matched: 0, stepUp: 0, noMatch: 0, someoneElse: 0 };
  for (const q of mated) {
    const decision = await identifier.identify(q.probe);
    if (decision.outcome === "match") decision.identityId === q.identity ? matedOutcomes.matched++ : matedOutcomes.someoneElse++;
    else if (decision.outcome === "step-up") matedOutcomes.stepUp++;
    else matedOutcomes.noMatch++;
  }
  // The same shards with deeper or shallower re-ranking: how recall depends on it.
  const recallByCandidates: Record<string, number> = {};
  for (const depth of [8, 16, 32, 64]) {
    const deeper = new PalmIdentifier({
      registry: region.registry,
      shards: region.region.shards,
      index: region.index,
      now: Date.now,
      candidates: depth,
      policy: identifier.policy,
    });
    recallByCandidates[depth] = round(await recallOf(deeper), 4);
  }
  progress(`recall@1 ${recall.toFixed(4)}; by re-rank depth ${JSON.stringify(recallByCandidates)}; mated outcomes ${JSON.stringify(matedOutcomes)}`);

  // 5. Impostors: palms never enrolled, through the full policy.
  const impostors = population.nonMated.slice(0, impostorCount).map(decodePalmProbe);
  let impostorMatches = 0,
    impostorStepUps = 0;
  for (const q of impostors) {
    const outcome = (await identifier.identify(q)).outcome;
    if (outcome === "match") impostorMatches++;
    else if (outcome === "step-up") impostorStepUps++;
  }
  progress(`impostors accepted ${impostorMatches}/${impostors.length}, asked to step up ${impostorStepUps}/${impostors.length}`);

  const latency = [];
  for (const concurrency of [1, 8, 64]) {
    const l = await measureLatency(
      mated.map((q) => q.probe),
      concurrency,
      (q) => identifier.identify(q),
    );
    progress(`concurrency ${concurrency}: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, ${l.perSecond}/s`);
    latency.push(l);
  }

  // 6. Newcomers enrolled through the real path (duplicate check, registry, index), one at a time.
  // Each gives one rendered capture three times: enrollment stores the agreeing captures' medoid
  // and the duplicate check searches with it alone, so the decision depends only on that capture.
  const newcomers = population.nonMated.slice(impostorCount, impostorCount + newcomerCount).map(decodePalmProbe);
  let refusedAsDuplicates = 0,
    newcomerStepUps = 0;
  t = performance.now();
  for (const p of newcomers) {
    try {
      // A step-up: the newcomer's phone digits are not a close candidate's (they are someone else).
      await identifier.enroll([p, p, p], { sameAs: () => (newcomerStepUps++, false) });
    } catch (error) {
      if (!(error instanceof AlreadyEnrolled)) throw error;
      refusedAsDuplicates++;
    }
  }
  const liveEnrollPerSecond = (newcomers.length * 1000) / (performance.now() - t);
  progress(
    `live enrollment: ${liveEnrollPerSecond.toFixed(0)}/s; refused as duplicates ${refusedAsDuplicates}/${newcomers.length}, asked to step up ${newcomerStepUps}/${newcomers.length}`,
  );
  await region.close();
  const dbBytes = statSync(join(dataDir, "registry.sqlite")).size;

  // 7. Restart of a real node over the same data, and its memory against an empty node's.
  const restart = await timeRegionStart(dataDir, shardCount);
  progress(`palmline cloud restart: listening after ${(restart.ms / 1000).toFixed(1)} s, RSS ${(restart.rssBytes / 2 ** 20).toFixed(0)} MiB`);
  const emptyDir = mkdtempSync(join(tmpdir(), "palmline-bench-empty-"));
  const empty = await timeRegionStart(emptyDir, shardCount);
  rmSync(emptyDir, { recursive: true, force: true });
  const bytesPerIdentity = (restart.rssBytes - empty.rssBytes) / enrolled;
  // The index directory holds one sealed generation (shard files, its wrapped key, the manifest).
  const snapshotBytes = readdirSync(join(dataDir, "index")).reduce((n, name) => n + statSync(join(dataDir, "index", name)).size, 0);
  if (!values.keep && values.data === undefined) rmSync(dataDir, { recursive: true, force: true });

  const result = {
    bench: "identify",
    enrolled,
    shards: shardCount,
    dimension: PALM_VECTOR_DIMENSION,
    layout: layout.description,
    nprobe: layout.nprobe,
    rerankCandidates: candidates,
    population: {
      rendered: background.renderedCount,
      singleCapture: singleCaptures,
      mirrored: background.mirroredCount,
      renderedFailedToEnroll: population.failuresToAcquire.gallery,
      renderSeconds: round(renderSeconds, 1),
    },
    backgroundTailCheck: tailCheck,
    enrollment: {
      bulkPerSecond: round((enrolled * 1000) / region.fillMs, 0),
      livePerSecond: round(liveEnrollPerSecond, 0),
      liveRefusedAsDuplicates: `${refusedAsDuplicates}/${newcomers.length}`,
      liveStepUps: `${newcomerStepUps}/${newcomers.length}`,
    },
    indexBuildSeconds: round(region.buildMs / 1000, 1),
    matedQueries: mated.length,
    recallAt1: round(recall, 4),
    recallAt1ByRerankDepth: recallByCandidates,
    genuineAccepted: round(matedOutcomes.matched / mated.length, 4),
    genuineStepUp: round(matedOutcomes.stepUp / mated.length, 4),
    matedOutcomes,
    impostorsAccepted: `${impostorMatches}/${impostors.length}`,
    impostorStepUps: `${impostorStepUps}/${impostors.length}`,
    latency,
    throughputPerSecond: latency.at(-1)?.perSecond ?? 0,
    restartSeconds: round(restart.ms / 1000, 2),
    emptyNodeStartSeconds: round(empty.ms / 1000, 2),
    rssBytes: restart.rssBytes,
    emptyNodeRssBytes: empty.rssBytes,
    bytesPerIdentity: round(bytesPerIdentity, 0),
    snapshotBytesPerIdentity: round(snapshotBytes / enrolled, 0),
    registryBytesPerIdentity: round(dbBytes / enrolled, 0),
  };
  console.log(JSON.stringify(result));
  return result;
};
