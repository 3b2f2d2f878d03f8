// A region's identification built for a measurement: a real registry (SQLite, per-identity
// encryption, the node's own keyring layout) filled with given templates through enrollMany, and
// shards built from it the way a node builds them at first start, with the identifier on top.
// The open-set evaluation and the identification bench both measure through it, so they measure
// the region's own code path (search, registry read, template matcher, policy).
import { Effect } from "effect";
import { newIdentityId, type IdentityId } from "../core/ids.ts";
import type { IdentificationPolicy } from "../core/identification-policy.ts";
import { PALM_VECTOR_DIMENSION } from "../core/palm-template-vector.ts";
import type { PalmTemplate } from "../core/palm-template.ts";
import { PalmIdentifier } from "../cloud/identification/palm-identifier.ts";
import type { IdentityRegistryShape } from "../cloud/identity/identity-registry.ts";
import { openRegistryAtRest } from "../cloud/identity/registry-at-rest.ts";
import type { IndexLayout } from "../cloud/shards/index-layout.ts";
import { openRegionShards, type RegionShards } from "../cloud/shards/region-shards.ts";
import type { RegistryFollower } from "../cloud/shards/registry-follower.ts";

export interface EvaluationRegion {
  readonly registry: IdentityRegistryShape;
  readonly region: RegionShards;
  readonly identifier: PalmIdentifier;
  /** The shards' follower of the registry (another identifier over the same region needs it). */
  readonly index: RegistryFollower;
  /** Identity of the i-th template given. */
  readonly ids: readonly IdentityId[];
  readonly fillMs: number;
  readonly buildMs: number;
  close(): Promise<void>;
}

const BATCH = 10_000;

export const openEvaluationRegion = async (o: {
  dataDir: string;
  /** Templates to enroll, in order (read lazily, a batch at a time). */
  templates: Iterable<PalmTemplate>;
  count: number;
  shardCount: number;
  policy?: IdentificationPolicy;
  candidates?: number;
  layout?: IndexLayout;
  log: (line: string) => void;
}): Promise<EvaluationRegion> => {
  const atRest = await openRegistryAtRest({ dataDir: o.dataDir, regionId: "evaluation" });
  const { registry } = atRest;
  const ids: IdentityId[] = [];
  let started = performance.now(),
    reported = started;
  let batch: { identityId: IdentityId; template: PalmTemplate }[] = [];
  const flush = () => {
    Effect.runSync(registry.enroll(batch, Date.now()));
    batch = [];
    if (performance.now() - reported > 5_000 || ids.length === o.count) {
      reported = performance.now();
      o.log(`registry: ${ids.length}/${o.count} enrolled`);
    }
  };
  for (const template of o.templates) {
    const identityId = newIdentityId();
    ids.push(identityId);
    batch.push({ identityId, template });
    if (batch.length === BATCH) flush();
  }
  if (batch.length > 0) flush();
  const fillMs = performance.now() - started;
  started = performance.now();
  const region = await openRegionShards({
    registry,
    dataDir: o.dataDir,
    storageKey: atRest.storageKey,
    shardCount: o.shardCount,
    dimension: PALM_VECTOR_DIMENSION,
    log: o.log,
    ...(o.layout === undefined ? {} : { layout: o.layout }),
  });
  const buildMs = performance.now() - started;
  const index = await atRest.follow(region.shards, o.log, region.snapshot);
  const identifier = new PalmIdentifier({
    registry,
    shards: region.shards,
    index,
    now: Date.now,
    ...(o.policy === undefined ? {} : { policy: o.policy }),
    ...(o.candidates === undefined ? {} : { candidates: o.candidates }),
  });
  return {
    registry,
    region,
    identifier,
    index,
    ids,
    fillMs,
    buildMs,
    close: async () => {
      await region.close();
      await atRest.close();
    },
  };
};
