// One identity's registry record as it travels between regions: the state-based CRDT record of
// core/identity-record-crdt.ts, plus where it was created and, while it is live, its data key.
// Field values stay ciphertexts under the data key, with associated data `field:<id>:<name>`,
// which names no region: the receiving region stores them as they are and re-wraps only the key.
// Every field write and the tombstone carry the signature of the region that made them
// (write-signatures.ts), checked against write-authority.ts before anything is merged.
import { Data } from "effect";
import type { IdentityRecord } from "../../core/identity-record-crdt.ts";
import type { HlcTimestamp } from "../../core/hybrid-logical-clock.ts";

export interface ReplicatedField {
  readonly name: string;
  readonly stamp: HlcTimestamp;
  /** Ciphertext under the identity's data key; null records that the field was cleared. */
  readonly value: Uint8Array | null;
  /** The writing region's (stamp.nodeId's) Ed25519 signature over the write. */
  readonly signature: Uint8Array;
}

/** Why an identity was deleted, kept with its tombstone; "unrecorded" for tombstones written before reasons were. */
export const TOMBSTONE_REASONS = ["requested", "expired", "unrecorded"] as const;
export type TombstoneReason = (typeof TOMBSTONE_REASONS)[number];

export interface ReplicatedRecord {
  readonly identityId: string;
  readonly originRegion: string;
  readonly created: HlcTimestamp;
  readonly lastSeenMs: number;
  readonly tombstone: HlcTimestamp | undefined;
  /** With a tombstone: why, and the deleting region's (tombstone.nodeId's) signature over it. */
  readonly tombstoneReason?: string;
  readonly tombstoneSignature?: Uint8Array;
  /** 32 bytes, unwrapped, present iff live. Travels only sealed to the receiving region (cloud/replication/sealed-data-key.ts); the receiver re-wraps it with its own storage key. */
  readonly dataKey: Uint8Array | undefined;
  /** Tombstoned records have none. */
  readonly fields: readonly ReplicatedField[];
}

export const DATA_KEY_BYTES = 32;

export class ReplicatedRecordInvalid extends Data.TaggedError("ReplicatedRecordInvalid")<{ readonly identityId: string; readonly reason: string }> {
  override get message() {
    return `replicated record of ${this.identityId} refused: ${this.reason}`;
  }
}

/** The CRDT view of a replicated record (what merges compare). */
export const toIdentityRecord = (record: ReplicatedRecord): IdentityRecord => ({
  identityId: record.identityId,
  created: record.created,
  lastSeenMs: record.lastSeenMs,
  tombstone: record.tombstone,
  fields: Object.fromEntries(record.fields.map((f) => [f.name, { stamp: f.stamp, value: f.value, signature: f.signature }])),
});
