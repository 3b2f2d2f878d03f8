// One shard: a faiss index over a partition of the region's templates, and the map from faiss
// label to identity. Lives inside a ShardThread's worker thread (or in-process in tests).
//
// Labels are the shard's own sequence numbers, given to faiss with add_with_ids (palmline's
// faiss-node patch), so removing an identity removes its entry from the index for real and no
// label is ever reused: no tombstones to skip at search time, nothing to compact.
import type { IdentityId } from "../../core/ids.ts";
import type { Sodium } from "../../protocol/sodium.ts";
import { faiss, METRIC_INNER_PRODUCT, METRIC_L2, type FaissIndex } from "./faiss-index.ts";
import { metricOf, type IndexLayout } from "./index-layout.ts";
import { readSealedShard, writeSealedShard, type SealedShardFile } from "./sealed-shard-file.ts";

const faissMetric = (layout: IndexLayout) => (metricOf(layout) === "l2" ? METRIC_L2 : METRIC_INNER_PRODUCT);

export interface ShardCandidate {
  readonly identityId: IdentityId;
  /** Similarity in the index's space: exact cosine for flat layouts, approximate otherwise. */
  readonly score: number;
}

export class SignatureShard {
  readonly dimension: number;
  readonly layout: IndexLayout;
  readonly #index: FaissIndex;
  /** faiss label -> identity; undefined where an identity was removed. */
  readonly #identities: (IdentityId | undefined)[];
  readonly #labels = new Map<IdentityId, number>();

  private constructor(index: FaissIndex, layout: IndexLayout, identities: (IdentityId | undefined)[]) {
    this.#index = index;
    this.layout = layout;
    this.dimension = index.getDimension();
    this.#identities = identities;
    identities.forEach((id, label) => {
      if (id !== undefined) this.#labels.set(id, label);
    });
    if (layout.nprobe > 0) index.setParameter("nprobe", layout.nprobe);
  }

  /** An empty shard; a layout that needs training takes an already trained, empty index. */
  static create(layout: IndexLayout, dimension: number, trained?: Uint8Array): SignatureShard {
    const index = trained !== undefined ? faiss.Index.fromBytes(trained) : faiss.Index.fromFactory(dimension, layout.description, faissMetric(layout));
    if (!index.isTrained()) throw new Error(`index "${layout.description}" needs training before it can hold templates`);
    return new SignatureShard(index, layout, []);
  }

  /** Trains a layout on sample templates (row-major) and returns the trained, empty index. */
  static train(layout: IndexLayout, dimension: number, samples: Float32Array): Uint8Array {
    const index = faiss.Index.fromFactory(dimension, layout.description, faissMetric(layout));
    if (!index.isTrained()) index.trainFloat32(samples);
    return index.toBytes();
  }

  /** A shard from its sealed snapshot (refused with SealedShardUnreadable if it does not open). */
  static load(sodium: Sodium, layout: IndexLayout, file: SealedShardFile): SignatureShard {
    const contents = readSealedShard(sodium, file);
    let index: FaissIndex;
    try {
      // In memory only: the index in clear never touches the disk.
      index = faiss.Index.fromBytes(contents.index);
    } finally {
      contents.index.fill(0);
    }
    return new SignatureShard(
      index,
      layout,
      contents.identities.map((id) => id ?? undefined),
    );
  }

  get size(): number {
    return this.#labels.size;
  }

  has(identityId: IdentityId): boolean {
    return this.#labels.has(identityId);
  }

  /** Adds templates (row-major, one per id); ids already present are skipped. Returns how many were added. */
  add(identityIds: readonly IdentityId[], templates: Float32Array): number {
    if (templates.length !== identityIds.length * this.dimension) throw new RangeError(`expected ${identityIds.length} templates of ${this.dimension} values`);
    const keep: number[] = [];
    const seen = new Set<IdentityId>();
    identityIds.forEach((id, row) => {
      if (!this.#labels.has(id) && !seen.has(id)) {
        seen.add(id);
        keep.push(row);
      }
    });
    if (keep.length === 0) return 0;
    const vectors = keep.length === identityIds.length ? templates : new Float32Array(keep.length * this.dimension);
    const labels = new Float64Array(keep.length);
    keep.forEach((row, i) => {
      if (vectors !== templates) vectors.set(templates.subarray(row * this.dimension, (row + 1) * this.dimension), i * this.dimension);
      labels[i] = this.#identities.length + i;
    });
    this.#index.addWithIdsFloat32(vectors, labels);
    for (const row of keep) {
      const id = identityIds[row]!;
      this.#labels.set(id, this.#identities.length);
      this.#identities.push(id);
    }
    return keep.length;
  }

  /** Removes identities from the index; returns how many it held. */
  remove(identityIds: readonly IdentityId[]): number {
    const labels: number[] = [];
    for (const id of identityIds) {
      const label = this.#labels.get(id);
      if (label === undefined) continue;
      labels.push(label);
      this.#labels.delete(id);
      this.#identities[label] = undefined;
    }
    if (labels.length > 0) this.#index.removeIds(labels);
    return labels.length;
  }

  /** The k best candidates, best first. */
  search(probe: Float32Array, k: number): ShardCandidate[] {
    return this.searchMany(probe, k)[0] ?? [];
  }

  /** Several probes (row-major) in one faiss call, which shares the coarse search among them. */
  searchMany(probes: Float32Array, k: number): ShardCandidate[][] {
    const nq = probes.length / this.dimension;
    if (this.#labels.size === 0 || k <= 0) return Array.from({ length: nq }, () => []);
    const kk = Math.min(k, this.#labels.size);
    const { distances, labels } = this.#index.searchFloat32(probes, kk);
    // L2 layouts return squared distances, ascending; for unit vectors |a-b|^2 = 2 - 2 cos.
    const l2 = metricOf(this.layout) === "l2";
    return Array.from({ length: nq }, (_, q) => {
      const out: ShardCandidate[] = [];
      for (let i = q * kk; i < (q + 1) * kk; i++) {
        const label = labels[i]!;
        const identityId = label >= 0 ? this.#identities[label] : undefined;
        if (identityId !== undefined) out.push({ identityId, score: l2 ? 1 - distances[i]! / 2 : distances[i]! });
      }
      return out;
    });
  }

  identityIds(): IdentityId[] {
    return [...this.#labels.keys()];
  }

  /** Writes the index and its label map, sealed, to the file and flushes it to disk. */
  writeSnapshot(sodium: Sodium, file: SealedShardFile): void {
    const index = this.#index.toBytes();
    try {
      writeSealedShard(sodium, file, { identities: this.#identities.map((id) => id ?? null), index });
    } finally {
      index.fill(0);
    }
  }
}
