// Digests that tell two regions whether their registries hold the same records, and if not,
// where they differ: a hash per record over its canonical form (core/identity-record-crdt.ts: the
// same content whatever order fields were written in), a whole-registry digest, and one digest
// per bucket of ids, so anti-entropy ships only the buckets that differ.
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
 * region is left out, as in the CRDT's canonical form: it never decides a merge.
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
    else hash.update(Buffer.from([1])).update(lengthOf(register.value.byteLength)).update(register.value);
  }
  return hash.digest();
};

/** Accumulates record digests, given in identity id order, into the whole and per-bucket digests. */
export class RegistryDigester {
  readonly #whole = createHash("sha256");
  readonly #buckets = Array.from({ length: REPLICA_BUCKETS }, () => ({ hash: createHash("sha256"), count: 0 }));

  add(record: IdentityRecord): void {
    this.addDigest(record.identityId, recordDigest(record));
  }

  /** A record's digest computed earlier (recordDigest), given in identity id order like add(). */
  addDigest(identityId: string, digest: Uint8Array): void {
    this.#whole.update(digest);
    const bucket = this.#buckets[bucketOf(identityId)]!;
    bucket.hash.update(digest);
    bucket.count++;
  }

  whole(): string {
    return this.#whole.digest("hex");
  }

  buckets(): { bucket: number; digest: Uint8Array; count: number }[] {
    return this.#buckets.map((b, bucket) => ({ bucket, digest: new Uint8Array(b.hash.digest()), count: b.count }));
  }
}
