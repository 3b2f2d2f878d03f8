// The region's shards. An identity lives in exactly one shard, chosen by a hash of its id, so any
// node rebuilding from the registry puts it in the same place. Each shard is a ShardThread on its
// own worker thread; identification scatters a probe to every shard and gathers the best
// candidates.
import { createHash } from "node:crypto";
import type { IdentityId } from "../../core/ids.ts";
import { palmIndexVector } from "../../core/palm-template-vector.ts";
import type { PalmTemplate } from "../../core/palm-template.ts";
import type { IndexLayout } from "./index-layout.ts";
import { ShardThread } from "./shard-thread.ts";
import type { SealedShardFile } from "./sealed-shard-file.ts";
import type { ShardCandidate } from "./signature-shard.ts";

export type { ShardCandidate } from "./signature-shard.ts";

export const shardOf = (identityId: string, shardCount: number): number => createHash("sha256").update(identityId).digest().readUInt32BE(0) % shardCount;

/** An identity's template; the shards index its vector (core/palm-template-vector.ts), never the template. */
export interface IndexedTemplate {
  readonly identityId: IdentityId;
  readonly template: PalmTemplate;
}

export class ShardSet {
  readonly layout: IndexLayout;
  readonly dimension: number;
  readonly #actors: readonly ShardThread[];
  /** Identities per shard, kept here so gauges need no round trip to the workers. */
  readonly #shardSizes: number[];
  /** Called after every add or remove that changed the index (the snapshot policy listens). */
  onChange: (changed: number) => void = () => {};

  private constructor(actors: readonly ShardThread[], layout: IndexLayout, dimension: number, sizes: readonly number[]) {
    this.#actors = actors;
    this.layout = layout;
    this.dimension = dimension;
    this.#shardSizes = [...sizes];
  }

  static #spawn(shardCount: number): ShardThread[] {
    if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError("shardCount must be a positive integer");
    return Array.from({ length: shardCount }, () => new ShardThread());
  }

  /** Empty shards. A layout that needs training is trained once (in the first worker) on the samples. */
  static async create(options: { shardCount: number; dimension: number; layout: IndexLayout; trainingSamples?: Float32Array }): Promise<ShardSet> {
    const actors = ShardSet.#spawn(options.shardCount);
    try {
      const trained = options.trainingSamples === undefined ? undefined : await actors[0]!.train(options.layout, options.dimension, options.trainingSamples);
      await Promise.all(actors.map((a) => a.create(options.layout, options.dimension, trained)));
    } catch (error) {
      await Promise.all(actors.map((a) => a.close()));
      throw error;
    }
    return new ShardSet(
      actors,
      options.layout,
      options.dimension,
      actors.map(() => 0),
    );
  }

  /** Shards loaded from their sealed snapshot files, one per shard. */
  static async load(options: { dimension: number; layout: IndexLayout; files: readonly SealedShardFile[] }): Promise<ShardSet> {
    const actors = ShardSet.#spawn(options.files.length);
    try {
      const sizes = await Promise.all(actors.map((a, i) => a.load(options.layout, options.files[i]!)));
      return new ShardSet(actors, options.layout, options.dimension, sizes);
    } catch (error) {
      await Promise.all(actors.map((a) => a.close()));
      throw error;
    }
  }

  get shardCount(): number {
    return this.#actors.length;
  }

  get size(): number {
    return this.#shardSizes.reduce((n, s) => n + s, 0);
  }

  get shardSizes(): readonly number[] {
    return this.#shardSizes;
  }

  async add(entries: readonly IndexedTemplate[]): Promise<number> {
    const perShard = this.#actors.map(() => [] as { identityId: IdentityId; vector: Float32Array }[]);
    for (const e of entries) {
      const vector = palmIndexVector(e.template);
      if (vector.length !== this.dimension) throw new RangeError(`a template's vector has ${vector.length} values, shards expect ${this.dimension}`);
      perShard[shardOf(e.identityId, this.#actors.length)]!.push({ identityId: e.identityId, vector });
    }
    const added = await Promise.all(
      perShard.map((batch, i) => {
        if (batch.length === 0) return 0;
        const packed = new Float32Array(batch.length * this.dimension);
        batch.forEach((e, row) => packed.set(e.vector, row * this.dimension));
        return this.#actors[i]!.add(
          batch.map((e) => e.identityId),
          packed,
        );
      }),
    );
    added.forEach((n, i) => (this.#shardSizes[i]! += n));
    const total = added.reduce((n, a) => n + a, 0);
    if (total > 0) this.onChange(total);
    return total;
  }

  async remove(identityIds: readonly IdentityId[]): Promise<number> {
    const perShard = this.#actors.map(() => [] as IdentityId[]);
    for (const id of identityIds) perShard[shardOf(id, this.#actors.length)]!.push(id);
    const removed = await Promise.all(perShard.map((ids, i) => (ids.length === 0 ? 0 : this.#actors[i]!.remove(ids))));
    removed.forEach((n, i) => (this.#shardSizes[i]! -= n));
    const total = removed.reduce((n, r) => n + r, 0);
    if (total > 0) this.onChange(total);
    return total;
  }

  /** The k best candidates over every shard for a probe's template, best first (by the index's own score). */
  async search(probe: PalmTemplate, k: number): Promise<ShardCandidate[]> {
    const vector = palmIndexVector(probe);
    const perShard = await Promise.all(this.#actors.map((a) => a.search(vector, k)));
    return perShard
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }

  async identityIds(): Promise<IdentityId[]> {
    return (await Promise.all(this.#actors.map((a) => a.identityIds()))).flat();
  }

  async has(identityId: IdentityId): Promise<boolean> {
    return (await this.#actors[shardOf(identityId, this.#actors.length)]!.identityIds()).includes(identityId);
  }

  /** Writes every shard's sealed file; returns how many identities they hold. */
  async snapshot(files: readonly SealedShardFile[]): Promise<number> {
    if (files.length !== this.#actors.length) throw new RangeError("one snapshot file per shard");
    const counts = await Promise.all(this.#actors.map((a, i) => a.snapshot(files[i]!)));
    return counts.reduce((n, c) => n + c, 0);
  }

  /** Resident memory of the process (every worker shares it). */
  memory(): Promise<number> {
    return this.#actors[0]!.memory();
  }

  async close(): Promise<void> {
    await Promise.all(this.#actors.map((a) => a.close()));
  }
}
