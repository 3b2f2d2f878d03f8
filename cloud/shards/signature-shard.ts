// One shard: an exact inner-product FAISS index over a partition of the region's templates.
//
// faiss-node 0.5.1 has no add_with_ids, so FAISS labels are positions; the shard keeps the map
// from position to identity, and a removed identity becomes a tombstoned position that search
// skips until the shard is compacted (rebuilt without it). Exact search is the foundation's
// choice; the million-identity issue picks the index type by measurement.
import faiss from "faiss-node";
import type { IdentityId } from "../../core/ids.ts";
import type { PalmSignature } from "../../core/palm-signature.ts";

export interface ShardCandidate {
  readonly identityId: IdentityId;
  readonly score: number;
}

export class SignatureShard {
  readonly dimension: number;
  #index: faiss.IndexFlatIP;
  #identities: IdentityId[] = [];
  readonly #positions = new Map<IdentityId, number>();
  readonly #tombstones = new Set<number>();

  constructor(dimension: number) {
    this.dimension = dimension;
    this.#index = new faiss.IndexFlatIP(dimension);
  }

  get size(): number {
    return this.#identities.length - this.#tombstones.size;
  }

  has(identityId: IdentityId): boolean {
    return this.#positions.has(identityId);
  }

  add(entries: readonly { identityId: IdentityId; template: PalmSignature }[]): void {
    const fresh = entries.filter((e) => !this.#positions.has(e.identityId));
    if (fresh.length === 0) return;
    const flat = new Array<number>(fresh.length * this.dimension);
    fresh.forEach((e, row) => {
      if (e.template.length !== this.dimension) throw new RangeError(`template has ${e.template.length} values, shard expects ${this.dimension}`);
      for (let i = 0; i < this.dimension; i++) flat[row * this.dimension + i] = e.template[i]!;
    });
    this.#index.add(flat);
    for (const e of fresh) {
      this.#positions.set(e.identityId, this.#identities.length);
      this.#identities.push(e.identityId);
    }
  }

  remove(identityId: IdentityId): boolean {
    const position = this.#positions.get(identityId);
    if (position === undefined) return false;
    this.#positions.delete(identityId);
    this.#tombstones.add(position);
    return true;
  }

  /** The k best live candidates, best first. */
  search(probe: PalmSignature, k: number): ShardCandidate[] {
    const total = this.#identities.length;
    if (total === 0 || k <= 0) return [];
    // Ask for enough extra rows to see past tombstoned positions.
    const want = Math.min(total, k + this.#tombstones.size);
    const { distances, labels } = this.#index.search(Array.from(probe), want);
    const out: ShardCandidate[] = [];
    for (let i = 0; i < labels.length && out.length < k; i++) {
      const label = labels[i]!;
      if (label < 0 || this.#tombstones.has(label)) continue;
      out.push({ identityId: this.#identities[label]!, score: distances[i]! });
    }
    return out;
  }
}
