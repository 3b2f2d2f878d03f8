// The region's shards. An identity lives in exactly one shard, chosen by a hash of its id, so any
// node rebuilding from the registry puts it in the same place. Identification scatters a probe to
// every shard and gathers the best candidates.
import { createHash } from "node:crypto";
import type { IdentityId } from "../../core/ids.ts";
import type { PalmSignature } from "../../core/palm-signature.ts";
import { SignatureShard, type ShardCandidate } from "./signature-shard.ts";

export const shardOf = (identityId: string, shardCount: number): number =>
  createHash("sha256").update(identityId).digest().readUInt32BE(0) % shardCount;

export class ShardSet {
  readonly shards: readonly SignatureShard[];

  constructor(options: { shardCount: number; dimension: number }) {
    if (!Number.isInteger(options.shardCount) || options.shardCount < 1) throw new RangeError("shardCount must be a positive integer");
    this.shards = Array.from({ length: options.shardCount }, () => new SignatureShard(options.dimension));
  }

  get size(): number {
    return this.shards.reduce((n, s) => n + s.size, 0);
  }

  add(entries: Iterable<{ identityId: IdentityId; template: PalmSignature }>): void {
    const perShard = this.shards.map(() => [] as { identityId: IdentityId; template: PalmSignature }[]);
    for (const e of entries) perShard[shardOf(e.identityId, this.shards.length)]!.push(e);
    perShard.forEach((batch, i) => this.shards[i]!.add(batch));
  }

  remove(identityId: IdentityId): boolean {
    return this.shards[shardOf(identityId, this.shards.length)]!.remove(identityId);
  }

  has(identityId: IdentityId): boolean {
    return this.shards[shardOf(identityId, this.shards.length)]!.has(identityId);
  }

  search(probe: PalmSignature, k: number): ShardCandidate[] {
    return this.shards
      .flatMap((s) => s.search(probe, k))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }
}
