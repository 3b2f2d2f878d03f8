// `npm run bench -- identify --enrolled N`: a region's identification at scale.
//
// Fills a real registry (SQLite, per-identity encryption, the node's own keyring layout) with N
// synthetic identities drawn from the real model's fitted output distribution
// (signature-distribution.ts), builds the shards the way a node does at first start, then
// measures identification (through PalmIdentifier: scatter, gather, exact re-rank, threshold)
// at concurrency 1, 8 and 64, recall@1 against exact brute-force search over the full
// templates, enrollment through the real path, and a real `palmline cloud` restart over the same
// data directory (time to listening, resident memory). Progress on stderr; one JSON line on stdout.
// Recall is measured against exact cosine search, so the identifier here re-ranks by cosine too;
// the sampled signatures have the model's statistics but not its spatial layout, which the
// finer comparison needs.
import { cosineMatchRule } from "../../cloud/identification/match-rule.ts";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import { newIdentityId, type IdentityId } from "../../core/ids.ts";
import { MATCH_THRESHOLD } from "../../core/match-threshold.ts";
import type { PalmSignature } from "../../core/palm-signature.ts";
import { PalmIdentifier, RERANK_CANDIDATES } from "../../cloud/identification/palm-identifier.ts";
import { AlreadyEnrolled } from "../../core/errors.ts";
import { chooseIndexLayout, exactLayout, type IndexLayout } from "../../cloud/shards/index-layout.ts";
import { IdentityRegistry } from "../../cloud/registry/identity-registry.ts";
import { openRegistryDatabase } from "../../cloud/registry/registry-database.ts";
import { faiss, METRIC_INNER_PRODUCT } from "../../cloud/shards/faiss-index.ts";
import { openRegionShards } from "../../cloud/shards/region-shards.ts";
import { IdentityVault } from "../../cloud/storage/identity-vault.ts";
import { loadOrCreateRegionKeyring } from "../../cloud/storage/region-keyring.ts";
import { sodiumReady } from "../../cloud/storage/sodium.ts";
import { captureOf, fitSignatureDistribution, identityCentre } from "./signature-distribution.ts";
import { parseNumberInRange, parsePositiveInt } from "../../cli/command-line.ts";
import type { IdentifyBenchValues } from "./bench-commands.ts";

const repoRoot = join(import.meta.dirname, "..", "..");
const progress = (line: string) => process.stderr.write(`[identify ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** Starts `palmline cloud` on dataDir; resolves once it listens, with the time taken and its RSS. */
const timeRegionStart = (dataDir: string, shards: number) =>
  new Promise<{ ms: number; rssBytes: number; log: string[] }>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, "cli", "main.ts"), "cloud", "--port", "0", "--data", dataDir, "--shards", String(shards)], { stdio: ["ignore", "pipe", "pipe"] });
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

const measureLatency = async (queries: readonly PalmSignature[], concurrency: number, identify: (q: PalmSignature) => Promise<unknown>) => {
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
  return { concurrency, p50Ms: round(percentile(latencies, 0.5)), p99Ms: round(percentile(latencies, 0.99)), perSecond: round((queries.length * 1000) / wall, 0) };
};

export const runIdentifyBench = async (values: IdentifyBenchValues) => {
  const enrolled = parsePositiveInt("enrolled", values.enrolled, 100_000, 1_000_000);
  const queryCount = parsePositiveInt("queries", values.queries, 1_000);
  const shardCount = parsePositiveInt("shards", values.shards, 2, 256);
  const palms = parsePositiveInt("palms", values.palms, 160);
  const isotropicShare = parseNumberInRange("isotropic-share", values["isotropic-share"], 0.25, 0, 1);
  const forcedNprobe = values.nprobe === undefined ? undefined : parsePositiveInt("nprobe", values.nprobe, 1);
  const candidates = parsePositiveInt("candidates", values.candidates, RERANK_CANDIDATES);
  const dataDir = values.data ?? mkdtempSync(join(tmpdir(), "palmline-bench-identify-"));
  progress(`enrolled=${enrolled} queries=${queryCount} shards=${shardCount} data=${dataDir}`);

  // 1. The real model's output distribution.
  let t = performance.now();
  const dist = await fitSignatureDistribution({ palms, capturesPerPalm: 4, isotropicShare, progress });
  const fitMs = performance.now() - t;
  const dimension = dist.dimension;
  progress(`fitted on ${dist.between.length} palms in ${(fitMs / 1000).toFixed(1)} s: model genuine cosine ${dist.fittedGenuine.toFixed(3)}, impostor ${dist.fittedImpostor.toFixed(3)}`);

  // 2. Queries fixed up front (captures of enrolled identities, and palms never enrolled).
  const queryIdentity = Array.from({ length: queryCount }, (_, j) => (j * 2_654_435_761) % enrolled);
  const genuine = queryIdentity.map((i, j) => captureOf(dist, identityCentre(dist, i), 50_000_000 + j));
  const impostors = Array.from({ length: Math.ceil(queryCount / 4) }, (_, j) => captureOf(dist, identityCentre(dist, enrolled + 1 + j), 60_000_000 + j));

  // 3. Fill the registry, and find the exact nearest template of every genuine query on the way.
  const sodium = await sodiumReady;
  const keyring = await loadOrCreateRegionKeyring(dataDir);
  const db = openRegistryDatabase(dataDir);
  const registry = new IdentityRegistry({ db, vault: new IdentityVault(sodium, keyring.storageKey), hlc: new HybridLogicalClock("bench", Date.now), regionId: "bench" });
  const ids: IdentityId[] = new Array(enrolled);
  const exactBest = genuine.map(() => ({ index: -1, score: -Infinity }));
  const queryBlock = new Float32Array(queryCount * dimension);
  genuine.forEach((q, j) => queryBlock.set(q, j * dimension));
  let synthScore = 0;
  const BATCH = 10_000;
  let registryMs = 0;
  t = performance.now();
  let lastReport = t;
  for (let from = 0; from < enrolled; from += BATCH) {
    const n = Math.min(BATCH, enrolled - from);
    const block = new Float32Array(n * dimension);
    const entries: { identityId: IdentityId; template: PalmSignature }[] = [];
    for (let r = 0; r < n; r++) {
      const i = from + r;
      const template = captureOf(dist, identityCentre(dist, i), i, 3);
      ids[i] = newIdentityId();
      entries.push({ identityId: ids[i]!, template });
      block.set(template, r * dimension);
    }
    const w = performance.now();
    registry.enrollMany(entries, Date.now());
    registryMs += performance.now() - w;
    const flat = faiss.Index.fromFactory(dimension, "IDMap,Flat", METRIC_INNER_PRODUCT);
    flat.addWithIdsFloat32(block, Float64Array.from({ length: n }, (_, r) => from + r));
    const { distances, labels } = flat.searchFloat32(queryBlock, 1);
    for (let j = 0; j < queryCount; j++) {
      if (distances[j]! > exactBest[j]!.score) exactBest[j] = { index: labels[j]!, score: distances[j]! };
    }
    if (performance.now() - lastReport > 5_000 || from + n === enrolled) {
      lastReport = performance.now();
      const done = from + n;
      progress(`fill: ${done}/${enrolled} (${Math.round((done * 1000) / (lastReport - t))}/s; registry writes ${Math.round((done * 1000) / registryMs)}/s)`);
    }
  }
  const fillMs = performance.now() - t;
  genuine.forEach((q, j) => (synthScore += exactBest[j]!.score));
  db.close();
  const dbBytes = statSync(join(dataDir, "registry.sqlite")).size;

  // 4. First start: shards built from the registry (train, decrypt every template, add).
  const db2 = openRegistryDatabase(dataDir);
  const registry2 = new IdentityRegistry({ db: db2, vault: new IdentityVault(sodium, keyring.storageKey), hlc: new HybridLogicalClock("bench", Date.now), regionId: "bench" });
  const chosen = chooseIndexLayout(enrolled, shardCount, dimension);
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
  t = performance.now();
  const region = await openRegionShards({ registry: registry2, dataDir, shardCount, dimension, log: progress, ...(forced === undefined ? {} : { layout: forced }) });
  const buildMs = performance.now() - t;
  await region.snapshot();
  const layout = region.shards.layout;
  const identifier = new PalmIdentifier({ registry: registry2, shards: region.shards, now: Date.now, candidates, rule: cosineMatchRule() });

  // 5. Recall@1 against exact search, decisions, latency and throughput.
  let agree = 0;
  let accepted = 0;
  for (let j = 0; j < queryCount; j++) {
    const got = await identifier.closest(genuine[j]!);
    if (got?.identityId === ids[exactBest[j]!.index]) agree++;
    if ((got?.score ?? 0) >= MATCH_THRESHOLD) accepted++;
  }
  // The same shards with deeper or shallower re-ranking: how recall depends on it.
  const recallByCandidates: Record<string, number> = {};
  for (const depth of [4, 8, 16, 32]) {
    const probe = new PalmIdentifier({ registry: registry2, shards: region.shards, now: Date.now, candidates: depth, rule: cosineMatchRule() });
    let hits = 0;
    for (let j = 0; j < queryCount; j++) if ((await probe.closest(genuine[j]!))?.identityId === ids[exactBest[j]!.index]) hits++;
    recallByCandidates[depth] = round(hits / queryCount, 4);
  }
  progress(`recall@1 by re-rank depth: ${JSON.stringify(recallByCandidates)}`);
  let falseAccepts = 0;
  for (const q of impostors) if ((await identifier.identify(q)).outcome === "match") falseAccepts++;
  progress(`recall@1 ${(agree / queryCount).toFixed(4)} (genuine accepted ${accepted}/${queryCount}, impostors accepted ${falseAccepts}/${impostors.length})`);
  const latency = [];
  for (const concurrency of [1, 8, 64]) {
    const l = await measureLatency(genuine, concurrency, (q) => identifier.identify(q));
    progress(`concurrency ${concurrency}: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, ${l.perSecond}/s`);
    latency.push(l);
  }

  // 6. Enrollment through the real path (duplicate check, registry, index), one at a time.
  const newcomers = 200;
  let refusedAsDuplicates = 0;
  t = performance.now();
  for (let k = 0; k < newcomers; k++) {
    const centre = identityCentre(dist, enrolled + 1_000_000 + k);
    try {
      await identifier.enroll([0, 1, 2].map((c) => captureOf(dist, centre, 70_000_000 + k * 3 + c)));
    } catch (error) {
      // At this scale the threshold's false-match rate makes some newcomers look enrolled; they still cost a full enrollment.
      if (!(error instanceof AlreadyEnrolled)) throw error;
      refusedAsDuplicates++;
    }
  }
  const liveEnrollPerSecond = (newcomers * 1000) / (performance.now() - t);
  progress(`live enrollment: ${liveEnrollPerSecond.toFixed(0)}/s`);
  await region.close();
  db2.close();

  // 7. Restart of a real node over the same data, and its memory against an empty node's.
  const restart = await timeRegionStart(dataDir, shardCount);
  progress(`palmline cloud restart: listening after ${(restart.ms / 1000).toFixed(1)} s, RSS ${(restart.rssBytes / 2 ** 20).toFixed(0)} MiB`);
  const emptyDir = mkdtempSync(join(tmpdir(), "palmline-bench-empty-"));
  const empty = await timeRegionStart(emptyDir, shardCount);
  rmSync(emptyDir, { recursive: true, force: true });
  const bytesPerIdentity = (restart.rssBytes - empty.rssBytes) / enrolled;
  const snapshotBytes = (() => {
    const manifest = JSON.parse(readFileSync(join(dataDir, "index", "manifest.json"), "utf8")) as { shards: { indexFile: string; labelsFile: string }[] };
    return manifest.shards.reduce((n, s) => n + statSync(s.indexFile).size + statSync(s.labelsFile).size, 0);
  })();
  if (!values.keep && values.data === undefined) rmSync(dataDir, { recursive: true, force: true });

  const result = {
    bench: "identify",
    enrolled,
    shards: shardCount,
    dimension,
    layout: layout.description,
    nprobe: layout.nprobe,
    rerankCandidates: candidates,
    model: { palmsFitted: dist.between.length, genuineCosine: round(dist.fittedGenuine, 3), impostorCosine: round(dist.fittedImpostor, 3), syntheticGenuineTop1Cosine: round(synthScore / queryCount, 3) },
    enrollment: { bulkPerSecond: round((enrolled * 1000) / fillMs, 0), registryWritesPerSecond: round((enrolled * 1000) / registryMs, 0), livePerSecond: round(liveEnrollPerSecond, 0), liveRefusedAsDuplicates: `${refusedAsDuplicates}/${newcomers}` },
    indexBuildSeconds: round(buildMs / 1000, 1),
    recallAt1: round(agree / queryCount, 4),
    recallAt1ByRerankDepth: recallByCandidates,
    genuineAccepted: round(accepted / queryCount, 4),
    impostorsAccepted: `${falseAccepts}/${impostors.length}`,
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
