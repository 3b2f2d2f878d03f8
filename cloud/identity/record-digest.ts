// Digests that tell two regions whether their registries hold the same live records, and if not,
// where they differ: a hash per record over its canonical form (core/identity-record-crdt.ts: the
// same content whatever order fields were written in), a whole-registry digest, and one digest
// per bucket of ids, so anti-entropy ships only the buckets that differ.
//
// Tombstones stay out of the registry's digests: a tombstone here and no record at all there is
// no difference of state (the identity is gone in both; registries written before tombstones
// were kept for good may have pruned some). A deletion still changes the digest (a live record
// leaves it), so a region that missed one, or was restored from a backup taken before it, is
// found and repaired: the differing bucket's records, tombstones included, are exchanged.
import { createHash, type Hash } from "node:crypto";
import { encodeHlc, type HlcTimestamp } from "../../core/hybrid-logical-clock.ts";
import type { IdentityRecord } from "../../core/identity-record-crdt.ts";

export const REPLICA_BUCKETS = 256;

/** The first byte of sha256(identityId): spreads ids evenly, the same in every region. */
export const bucketOf = (identityId: string): number => createHash("sha256").update(identityId).digest()[0]!;

const text = (hash: Hash, value: string) => {
  const bytes = Buffer.from(value, "utf8");
  hash.update(lengthOf(bytes.byteLength)).update(bytes);
};
const lengthOf = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const stampText = (stamp: HlcTimestamp | undefined) => (stamp === undefined ? "" : encodeHlc(stamp));

/**
 * sha-256 over the record's canonical form: length-prefixed, fields sorted by name. The origin
 * region is left out, as in the CRDT's canonical form: it never decides a merge. The tombstone is
 * in: a merge compares whole records with it; only live records' digests make the registry's.
 */
export const recordDigest = (record: IdentityRecord): Buffer => {
  const hash = createHash("sha256");
  text(hash, record.identityId);
  text(hash, encodeHlc(record.created));
  text(hash, String(record.lastSeenMs));
  text(hash, stampText(record.tombstone));
  const names = Object.keys(record.fields).sort();
  hash.update(lengthOf(names.length));
  for (const name of names) {
    const register = record.fields[name]!;
    text(hash, name);
    text(hash, encodeHlc(register.stamp));
    if (register.value === null) hash.update(Buffer.from([0]));
    else
      hash
        .update(Buffer.from([1]))
        .update(lengthOf(register.value.byteLength))
        .update(register.value);
  }
  return hash.digest();
};

export interface BucketDigest {
  readonly bucket: number;
  readonly digest: Uint8Array;
  readonly count: number;
}

/**
 * The registry's digests, kept up to date record by record: a bucket's digest is the XOR of its
 * live records' digests (with their count beside it), so a changed record is folded out and in again
 * without reading the rest of the bucket. The whole digest hashes the 256 bucket digests and
 * counts. XOR is no defence against someone choosing records to collide, but the peers are
 * authenticated federation members and the digests only decide what to compare.
 */
export class RegistryDigests {
  readonly #buckets = Array.from({ length: REPLICA_BUCKETS }, () => ({ xor: Buffer.alloc(32), count: 0 }));
  readonly #records = new Map<string, { readonly digest: Buffer; readonly bucket: number; readonly seq: number }>();

  get size(): number {
    return this.#records.size;
  }

  /** The digest folded in for a record, and the change number it was computed at. */
  get(identityId: string): { readonly digest: Buffer; readonly seq: number } | undefined {
    return this.#records.get(identityId);
  }

  /** Sets a record's digest (replacing what was folded in for it before). */
  put(identityId: string, digest: Buffer, seq: number): void {
    const old = this.#records.get(identityId);
    const bucket = old?.bucket ?? bucketOf(identityId);
    if (old !== undefined) this.#fold(bucket, old.digest, -1);
    this.#fold(bucket, digest, +1);
    this.#records.set(identityId, { digest, bucket, seq });
  }

  remove(identityId: string): void {
    const old = this.#records.get(identityId);
    if (old === undefined) return;
    this.#fold(old.bucket, old.digest, -1);
    this.#records.delete(identityId);
  }

  buckets(): BucketDigest[] {
    return this.#buckets.map((b, bucket) => ({ bucket, digest: new Uint8Array(b.xor), count: b.count }));
  }

  whole(): string {
    const hash = createHash("sha256");
    for (const b of this.#buckets) hash.update(b.xor).update(lengthOf(b.count));
    return hash.digest("hex");
  }

  #fold(bucket: number, digest: Buffer, delta: 1 | -1): void {
    const b = this.#buckets[bucket]!;
    for (let i = 0; i < 32; i++) b.xor[i]! ^= digest[i]!;
    b.count += delta;
  }
}

/** The buckets whose digest or count differ between two sets of bucket digests, in bucket order. */
export const differingBuckets = (theirs: ReadonlyMap<number, BucketDigest>, mine: ReadonlyMap<number, BucketDigest>): number[] => {
  const differing: number[] = [];
  for (const bucket of new Set([...theirs.keys(), ...mine.keys()])) {
    const a = theirs.get(bucket);
    const b = mine.get(bucket);
    if (a === undefined || b === undefined || a.count !== b.count || !Buffer.from(a.digest).equals(Buffer.from(b.digest))) differing.push(bucket);
  }
  return differing.sort((x, y) => x - y);
};
