// Bringing the region's shards up, and keeping their snapshot fresh.
//
// Shards are derived from the registry. At start: load the latest snapshot, replay the registry
// rows after its watermark, then check the shards against the registry's live ids (adding what is
// missing, removing what is not live), so whatever moment a kill happened at, the index ends up
// holding exactly the live registry. No usable snapshot (first start, corrupt files, a dimension
// or layout class that no longer fits, a sealed file that does not open): rebuild from the
// registry, then snapshot.
//
// Snapshots are sealed (shard-snapshot.ts). A removal must leave no file holding the removed
// vector: the registry follower asks snapshot() for one begun after the removal, which replaces
// (and destroys) the generation that still held it.
import { join } from "node:path";
import { Effect } from "effect";
import type { EnrolledTemplate, IdentityRegistryShape } from "../identity/identity-registry.ts";
import { palmIndexVector } from "../../core/palm-template-vector.ts";
import { chooseIndexLayout, exactLayout, metricOf, type IndexLayout } from "./index-layout.ts";
import { ShardSet } from "./shard-set.ts";
import { loadSodium } from "../../protocol/sodium.ts";
import { IndexSnapshots } from "./shard-snapshot.ts";

const BATCH = 2_048;
/** Index changes after which a fresh snapshot is written, so replay at start stays short. */
export const SNAPSHOT_EVERY = 20_000;

export interface ShardStartReport {
  readonly source: "snapshot" | "rebuild";
  readonly replayed: number;
  readonly repairedMissing: number;
  readonly repairedExtra: number;
  readonly ms: number;
}

export interface RegionShards {
  readonly shards: ShardSet;
  readonly report: ShardStartReport;
  /**
   * Writes a snapshot begun after this call (one at a time; a call during one waits for it and
   * the next; calls while the next is still queued share it). Resolves once it replaced the
   * previous generation, which is destroyed: no index file then holds what was removed before.
   */
  snapshot(): Promise<void>;
  /** Final snapshot, then the workers stop. */
  close(): Promise<void>;
}

const PROGRESS_EVERY = 100_000;

/** Live templates after a row, read from the registry a batch at a time. */
function* liveTemplatesAfter(registry: IdentityRegistryShape, afterRowId = 0): Generator<EnrolledTemplate> {
  let after = afterRowId;
  for (;;) {
    const page = Effect.runSync(registry.liveTemplates(after, BATCH));
    if (page.length === 0) return;
    yield* page;
    after = page[page.length - 1]!.rowid;
  }
}

const addStream = async (shards: ShardSet, templates: Iterable<EnrolledTemplate>, log: (line: string) => void): Promise<number> => {
  let added = 0;
  let read = 0;
  let batch: EnrolledTemplate[] = [];
  let inFlight: Promise<number> | undefined;
  for (const t of templates) {
    batch.push(t);
    if (++read % PROGRESS_EVERY === 0) log(`indexing from the registry: ${read} templates read`);
    if (batch.length < BATCH) continue;
    // One batch in the workers while the next is decrypted here.
    added += (await inFlight) ?? 0;
    inFlight = shards.add(batch);
    batch = [];
  }
  added += (await inFlight) ?? 0;
  if (batch.length > 0) added += await shards.add(batch);
  return added;
};

const rebuild = async (
  registry: IdentityRegistryShape,
  shardCount: number,
  dimension: number,
  layout: IndexLayout,
  log: (line: string) => void,
): Promise<ShardSet> => {
  let trainingSamples: Float32Array | undefined;
  if (layout.trainingSize > 0) {
    log(`training ${layout.description} on ${layout.trainingSize} sampled templates`);
    const samples = Effect.runSync(registry.sampleTemplates(layout.trainingSize));
    trainingSamples = new Float32Array(samples.length * dimension);
    samples.forEach((s, i) => trainingSamples!.set(palmIndexVector(s.template), i * dimension));
  }
  const shards = await ShardSet.create({ shardCount, dimension, layout, ...(trainingSamples === undefined ? {} : { trainingSamples }) });
  await addStream(shards, liveTemplatesAfter(registry), log);
  return shards;
};

const isExact = (layout: IndexLayout) => layout.description === exactLayout.description;

export const openRegionShards = async (options: {
  registry: IdentityRegistryShape;
  dataDir: string;
  /** The region's storage key: it wraps each snapshot generation's key. */
  storageKey: Uint8Array;
  shardCount: number;
  dimension: number;
  log: (line: string) => void;
  snapshotEvery?: number;
  /** Overrides the layout chosen by size when the shards are (re)built (benchmarks compare layouts). */
  layout?: IndexLayout;
}): Promise<RegionShards> => {
  const { registry, shardCount, dimension, log } = options;
  const dir = join(options.dataDir, "index");
  const started = performance.now();
  const snapshots = new IndexSnapshots({ dir, sodium: await loadSodium(), storageKey: options.storageKey });
  const onDisk = snapshots.read();
  if (onDisk.kind === "refused") log(`index snapshot refused (${onDisk.reason}); rebuilding from the registry`);
  const manifest = onDisk.kind === "usable" ? onDisk.manifest : undefined;
  const live = Effect.runSync(registry.liveCount());
  const wanted = options.layout ?? chooseIndexLayout(live, shardCount, dimension);
  let shards: ShardSet | undefined;
  let replayed = 0;
  let watermark = 0;
  if (
    onDisk.kind === "usable" &&
    manifest !== undefined &&
    manifest.dimension === dimension &&
    manifest.shards.length === shardCount &&
    isExact(manifest.layout) === isExact(wanted) &&
    metricOf(manifest.layout) === metricOf(wanted)
  ) {
    try {
      watermark = Effect.runSync(registry.watermark());
      shards = await ShardSet.load({ dimension, layout: manifest.layout, files: onDisk.files });
      replayed = await addStream(shards, liveTemplatesAfter(registry, manifest.watermark), log);
    } catch (error) {
      log(`index snapshot unusable (${error instanceof Error ? error.message : String(error)}); rebuilding from the registry`);
      await shards?.close();
      shards = undefined;
    }
  }
  const source = shards === undefined ? "rebuild" : "snapshot";
  // What a kill left behind (a half-written or a not yet destroyed generation) goes now.
  if (onDisk.kind === "usable" && source === "snapshot") snapshots.destroyAllBut(onDisk.manifest.generation);
  if (shards === undefined) {
    watermark = Effect.runSync(registry.watermark());
    shards = await rebuild(registry, shardCount, dimension, wanted, log);
  }
  // The check: the shards must hold exactly the registry's live identities.
  const registryIds = Effect.runSync(registry.liveIdentityIds());
  const liveSet = new Set<string>(registryIds);
  const indexed = await shards.identityIds();
  const indexedSet = new Set<string>(indexed);
  const extra = indexed.filter((id) => !liveSet.has(id));
  const missing = registryIds.filter((id) => !indexedSet.has(id));
  if (extra.length > 0) await shards.remove(extra);
  if (missing.length > 0) {
    for (let i = 0; i < missing.length; i += BATCH) await shards.add(Effect.runSync(registry.templatesOf(missing.slice(i, i + BATCH))));
  }
  const report: ShardStartReport = { source, replayed, repairedMissing: missing.length, repairedExtra: extra.length, ms: performance.now() - started };
  log(
    `index ready from ${source}: ${shards.size} identities in ${shardCount} shards (${shards.layout.description}), replayed ${replayed}, repaired +${missing.length}/-${extra.length} (${report.ms.toFixed(0)} ms)`,
  );

  const open = shards;
  let running: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  const after = (write: () => Promise<unknown>): Promise<void> => {
    const next = running
      .catch(() => {})
      .then(async () => {
        if (queued === next) queued = undefined;
        await write();
      });
    running = next;
    return next;
  };
  const snapshot = (): Promise<void> => {
    queued ??= after(() => snapshots.write(open, Effect.runSync(registry.watermark())));
    return queued;
  };
  if (source === "rebuild" || replayed + missing.length + extra.length > 0) {
    // Written in the background at the watermark read before the shards were filled; serving starts now.
    const covered = watermark;
    after(() => snapshots.write(open, covered)).catch((error: unknown) => log(`index snapshot failed: ${String(error)}`));
  }
  let changes = 0;
  const every = options.snapshotEvery ?? SNAPSHOT_EVERY;
  open.onChange = (changed) => {
    changes += changed;
    if (changes < every) return;
    changes = 0;
    snapshot().catch((error: unknown) => log(`index snapshot failed: ${String(error)}`));
  };
  return {
    shards: open,
    report,
    snapshot,
    close: async () => {
      await snapshot().catch((error: unknown) => log(`index snapshot failed: ${String(error)}`));
      await open.close();
    },
  };
};
