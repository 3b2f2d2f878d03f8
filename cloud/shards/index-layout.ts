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
 * nlist ~ 4·sqrt(n) per shard keeps lists a few hundred long; half of them are probed, and the
 * template matcher restores the order. The templates' pooled vectors separate palms less than
 * the previous float signature did: at 200,000 enrolled (1,024 lists per shard) new captures of
 * 997 enrolled palms were found by 0.996 of searches probing 128 lists and 0.999 probing 512
 * (`npm run bench -- identify --enrolled 200000 [--nprobe 512]`, docs/architecture.md).
 * Inverted lists hold the projected vectors as floats (512 bytes at 128 components): with
 * Debian's generic (non-AVX2) libfaiss, decoding SQ8 codes cost more than it saved.
 */
export const chooseIndexLayout = (totalIdentities: number, shardCount: number, dimension: number): IndexLayout => {
  if (totalIdentities < FLAT_LIMIT || dimension <= PROJECTED_DIMENSION) return exactLayout;
  const perShard = totalIdentities / shardCount;
  const nlist = 2 ** Math.round(Math.log2(4 * Math.sqrt(perShard)));
  return {
    description: `PCA${PROJECTED_DIMENSION},IVF${nlist},Flat`,
    nprobe: Math.min(nlist, Math.max(128, nlist / 2)),
    trainingSize: Math.min(totalIdentities, Math.max(30 * nlist, 50_000)),
    metric: "l2",
  };
};
