// Which faiss index a shard builds, chosen by how many identities the region holds when the shards
// are built. Small regions search exactly ("IDMap,Flat": full templates in RAM, ~10 KB each at
// 2560 floats, nothing to train). Past FLAT_LIMIT the full templates no longer fit the memory
// budget (<= 2 KB/identity), so shards keep a learned PCA projection to 128 components inside an
// inverted file, and the identifier re-ranks the few best candidates
// exactly against their full templates from the registry. The numbers behind these choices are in
// docs/architecture.md, "Identification at scale".

export interface IndexLayout {
  /** faiss index_factory description. */
  readonly description: string;
  /** Inverted lists probed per search (0 for exact layouts). */
  readonly nprobe: number;
  /** How many vectors to train on (0: nothing to train). */
  readonly trainingSize: number;
}

export const FLAT_LIMIT = 50_000;
export const PROJECTED_DIMENSION = 128;

export const exactLayout: IndexLayout = { description: "IDMap,Flat", nprobe: 0, trainingSize: 0 };

/**
 * nlist ~ 4·sqrt(n) per shard keeps lists a few hundred long; probing 1/128 of them (16 at
 * 500,000 per shard) bounds the scan per query, and the exact re-rank restores the order.
 * Inverted lists hold the projected vectors as floats (512 bytes at 128 components): with
 * Debian's generic (non-AVX2) libfaiss, decoding SQ8 codes cost more than it saved.
 */
export const chooseIndexLayout = (totalIdentities: number, shardCount: number, dimension: number): IndexLayout => {
  if (totalIdentities < FLAT_LIMIT || dimension <= PROJECTED_DIMENSION) return exactLayout;
  const perShard = totalIdentities / shardCount;
  const nlist = 2 ** Math.round(Math.log2(4 * Math.sqrt(perShard)));
  return {
    description: `PCA${PROJECTED_DIMENSION},IVF${nlist},Flat`,
    nprobe: Math.max(8, nlist / 128),
    trainingSize: Math.min(totalIdentities, Math.max(30 * nlist, 50_000)),
  };
};
