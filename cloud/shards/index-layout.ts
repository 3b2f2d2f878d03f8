// Which faiss index a shard builds over the templates' vectors (core/palm-template-vector.ts, 384
// floats), chosen by how many identities the region holds when the shards are built. Small regions
// search exactly ("IDMap,Flat": 1.5 KB per identity, nothing to train). Past FLAT_LIMIT a scan of
// every vector costs too much per identification, so shards keep a learned PCA projection to 128
// components inside an inverted file; either way the identifier re-ranks the best candidates with
// the template matcher against their templates from the registry. The numbers behind these
// choices are in docs/architecture.md, "Identification at scale".

export interface IndexLayout {
  /** faiss index_factory description. */
  readonly description: string;
  /** Inverted lists probed per search (0 for exact layouts). */
  readonly nprobe: number;
  /** How many vectors to train on (0: nothing to train). */
  readonly trainingSize: number;
  /**
   * How the index compares vectors; absent means "inner-product" (snapshots written before the
   * field existed). Exact layouts hold unit vectors, whose inner product is the cosine. Projected
   * layouts use L2: faiss's PCA centres the data, so an inner product there is no longer a cosine
   * and favours templates with much energy in the projected subspace, pushing a palm unlike the
   * training sample out of the shortlist; L2 between projections is the true distance less the
   * part the projection dropped.
   */
  readonly metric?: IndexMetric;
}

export type IndexMetric = "inner-product" | "l2";

export const metricOf = (layout: IndexLayout): IndexMetric => layout.metric ?? "inner-product";

export const FLAT_LIMIT = 50_000;
export const PROJECTED_DIMENSION = 128;

export const exactLayout: IndexLayout = { description: "IDMap,Flat", nprobe: 0, trainingSize: 0, metric: "inner-product" };

/**
 * nlist ~ 4·sqrt(n) per shard keeps lists a few hundred long; probing 128 of them (1/8 at
 * 50,000 per shard, 1/16 at 500,000) bounds the scan per query, and the exact re-rank restores
 * the order. At 100,000 enrolled, probes of 200 simulated payers' palms (unlike the index's
 * training sample) were lost when template and probe fell in different lists: 3-6 at 8 probes,
 * 1-3 at 16, 0-3 at 32, 0-1 at 64, none at 128 (docs/flows.md, "Measured").
 * Inverted lists hold the projected vectors as floats (512 bytes at 128 components): with
 * Debian's generic (non-AVX2) libfaiss, decoding SQ8 codes cost more than it saved.
 */
export const chooseIndexLayout = (totalIdentities: number, shardCount: number, dimension: number): IndexLayout => {
  if (totalIdentities < FLAT_LIMIT || dimension <= PROJECTED_DIMENSION) return exactLayout;
  const perShard = totalIdentities / shardCount;
  const nlist = 2 ** Math.round(Math.log2(4 * Math.sqrt(perShard)));
  return {
    description: `PCA${PROJECTED_DIMENSION},IVF${nlist},Flat`,
    nprobe: Math.min(nlist, Math.max(128, nlist / 16)),
    trainingSize: Math.min(totalIdentities, Math.max(30 * nlist, 50_000)),
    metric: "l2",
  };
};
