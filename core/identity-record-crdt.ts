// One identity's registry record as a state-based CRDT, so regions that exchange records in any
// order, any number of times, end with the same record (docs/architecture.md, "Storage and crash consistency"; docs/replication.md):
// - every attribute is a last-writer-wins register ordered by (HLC, node id);
// - last-seen is a max-register;
// - deletion is a tombstone that dominates every update, concurrent or later: once deleted, an
//   identity's attributes and data key are gone in every region that hears of it;
// - the creation stamp is the earliest one seen (two regions never mint the same id, but the
//   rule keeps the merge total).
// Pure: no I/O. The registry stores these records; replication ships them.
import { compareHlc, type HlcTimestamp } from "./hybrid-logical-clock.ts";

export interface FieldRegister {
  readonly stamp: HlcTimestamp;
  /** Encrypted with the identity's data key; null records that the field was cleared. */
  readonly value: Uint8Array | null;
  /** The writing region's signature over the write: opaque to the merge, it travels with the register it signs. */
  readonly signature?: Uint8Array | null;
}

export interface IdentityRecord {
  readonly identityId: string;
  readonly created: HlcTimestamp;
  readonly lastSeenMs: number;
  readonly tombstone: HlcTimestamp | undefined;
  readonly fields: Readonly<Record<string, FieldRegister>>;
}

const compareBytes = (a: Uint8Array | null, b: Uint8Array | null): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

/** The later write wins; identical stamps (never produced by a correct clock) fall back to the bytes. */
const mergeRegister = (a: FieldRegister, b: FieldRegister): FieldRegister => {
  const order = compareHlc(a.stamp, b.stamp) || compareBytes(a.value, b.value);
  return order >= 0 ? a : b;
};

const earlier = (a: HlcTimestamp, b: HlcTimestamp) => (compareHlc(a, b) <= 0 ? a : b);
const later = (a: HlcTimestamp, b: HlcTimestamp) => (compareHlc(a, b) >= 0 ? a : b);

export const mergeIdentityRecords = (a: IdentityRecord, b: IdentityRecord): IdentityRecord => {
  if (a.identityId !== b.identityId) throw new RangeError(`cannot merge records of ${a.identityId} and ${b.identityId}`);
  const tombstone = a.tombstone === undefined ? b.tombstone : b.tombstone === undefined ? a.tombstone : later(a.tombstone, b.tombstone);
  const fields: Record<string, FieldRegister> = {};
  if (tombstone === undefined) {
    for (const [name, register] of Object.entries(a.fields)) fields[name] = register;
    for (const [name, register] of Object.entries(b.fields)) {
      const mine = fields[name];
      fields[name] = mine === undefined ? register : mergeRegister(mine, register);
    }
  }
  return {
    identityId: a.identityId,
    created: earlier(a.created, b.created),
    lastSeenMs: Math.max(a.lastSeenMs, b.lastSeenMs),
    tombstone,
    fields,
  };
};

export const isLiveRecord = (record: IdentityRecord): boolean => record.tombstone === undefined;

/** A deletion: the tombstone, with every attribute dropped. */
export const tombstoneRecord = (record: IdentityRecord, stamp: HlcTimestamp): IdentityRecord =>
  mergeIdentityRecords(record, { identityId: record.identityId, created: record.created, lastSeenMs: record.lastSeenMs, tombstone: stamp, fields: {} });

/** Same content, whatever order the fields were written in: what digests and tests compare. */
export const canonicalRecord = (record: IdentityRecord) => ({
  identityId: record.identityId,
  created: record.created,
  lastSeenMs: record.lastSeenMs,
  tombstone: record.tombstone ?? null,
  fields: Object.keys(record.fields)
    .sort()
    .map((name) => [name, record.fields[name]!.stamp, record.fields[name]!.value === null ? null : Array.from(record.fields[name]!.value!)] as const),
});
