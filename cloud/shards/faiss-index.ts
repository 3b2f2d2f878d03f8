// The native boundary: faiss-node as patched at install (native/faiss-node/palmline-index-methods.inc).
// faiss-node's own typings know only the number[] methods; this is the typed view the shards use.
import { createRequire } from "node:module";

export interface FaissSearchResult {
  readonly distances: Float32Array;
  /** faiss labels as doubles; -1 marks an empty slot. */
  readonly labels: Float64Array;
}

export interface FaissIndex {
  ntotal(): number;
  getDimension(): number;
  isTrained(): boolean;
  addWithIdsFloat32(vectors: Float32Array, ids: Float64Array): void;
  trainFloat32(vectors: Float32Array): void;
  searchFloat32(queries: Float32Array, k: number): FaissSearchResult;
  setParameter(name: string, value: number): void;
  removeIds(ids: number[]): number;
  /** The index serialised in memory (palmline's patch: faiss-node's own toBuffer leaks a copy per call). */
  toBytes(): Buffer;
}

interface FaissModule {
  readonly Index: {
    fromFactory(dimension: number, description: string, metric: number): FaissIndex;
    /** An index from toBytes's bytes (palmline's patch: faiss-node's own fromBuffer leaks a copy per call). */
    fromBytes(bytes: Uint8Array): FaissIndex;
    setThreads(count: number): void;
  };
}

/** faiss::MetricType: signatures are L2-normalised, so inner product is cosine. */
export const METRIC_INNER_PRODUCT = 0;
/** faiss::METRIC_L2: squared Euclidean distance. */
export const METRIC_L2 = 1;

export const faiss = createRequire(import.meta.url)("faiss-node") as FaissModule;
