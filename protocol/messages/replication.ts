// Region-to-region replication of the identity registry (a state-based CRDT, core/identity-record-crdt.ts).
// One link carries both directions: each side streams its change feed (`replication.changes`,
// acked by `replication.ack`, resumed from the `appliedSeq` the other side names in its hello),
// and periodically compares 256 bucket digests (`replication.digest`) to repair what a feed
// missed (`replication.repair`, both ways). Records travel whole: merging a whole record is
// idempotent and commutative, so duplicates and reordering are harmless.
//
// A record's field values are ciphertexts under the identity's data key; the data key itself
// travels sealed to the receiving region's identity key (crypto_box_seal), never in clear, and
// the receiver re-wraps it with its own storage key at once.
//
// Every field write and every tombstone is signed (Ed25519) by the region its stamp names, and
// the signature travels with it: a record forwarded by any number of regions still proves who
// wrote each part. A receiver refuses a write its writer did not sign or may not make.
import { Schema } from "effect";
import { MAX_HLC_COUNTER } from "../../core/hybrid-logical-clock.ts";
import { boundedBytes, exactBytes, IdentityId, NonNegativeInt, RegionId, RequestId, Timestamp } from "./wire-fields.ts";

/** Hybrid logical clock stamp (core/hybrid-logical-clock.ts): wall time, counter within the millisecond, stamping node. */
export const HlcStamp = Schema.Struct({
  wallMs: Timestamp,
  counter: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_HLC_COUNTER })),
  nodeId: RegionId,
});
export type HlcStamp = typeof HlcStamp.Type;

/** Bounds that keep any record, and so any batch, inside one frame's 1 MiB. */
export const MAX_REPLICATED_FIELD_BYTES = 16 * 1024;
export const MAX_REPLICATED_FIELDS = 16;
export const MAX_RECORDS_PER_MESSAGE = 256;
export const REPLICA_BUCKET_COUNT = 256;
/** A 32-byte data key inside crypto_box_seal (ephemeral public key and tag: 48 bytes). */
export const SEALED_DATA_KEY_BYTES = 32 + 48;

/** Ed25519 detached signature. */
const WriteSignature = exactBytes(64);

/** One last-writer-wins register; value null records a cleared field. */
export const ReplicatedFieldWire = Schema.Struct({
  name: Schema.String.check(Schema.isBetweenLength(1, 64)),
  stamp: HlcStamp,
  value: Schema.NullOr(boundedBytes(MAX_REPLICATED_FIELD_BYTES)),
  /** By stamp.nodeId, over ("palmline/field-write/v1", identityId, name, encoded stamp, "cleared" or "value", value). */
  signature: WriteSignature,
});

export const ReplicatedRecordWire = Schema.Struct({
  identityId: IdentityId,
  originRegion: RegionId,
  created: HlcStamp,
  lastSeenMs: Timestamp,
  /** Present once deleted; a tombstoned record carries no fields and no data key. */
  tombstone: Schema.optionalKey(HlcStamp),
  /** With the tombstone: why ("requested", "expired", "unrecorded"), kept by every region. */
  tombstoneReason: Schema.optionalKey(Schema.String.check(Schema.isBetweenLength(1, 32))),
  /** With the tombstone: by tombstone.nodeId, over ("palmline/tombstone/v1", identityId, encoded stamp, reason). */
  tombstoneSignature: Schema.optionalKey(WriteSignature),
  /** The identity's 32-byte data key sealed to the receiver's identity key (crypto_box_seal: 32 + 48 bytes); present iff live. */
  sealedDataKey: Schema.optionalKey(exactBytes(SEALED_DATA_KEY_BYTES)),
  fields: Schema.Array(ReplicatedFieldWire).check(Schema.isMaxLength(MAX_REPLICATED_FIELDS)),
});
export type ReplicatedRecordWire = typeof ReplicatedRecordWire.Type;

const Records = Schema.Array(ReplicatedRecordWire).check(Schema.isMaxLength(MAX_RECORDS_PER_MESSAGE));
const Bucket = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: REPLICA_BUCKET_COUNT - 1 }));

/**
 * First message each way: who I am, and where to resume my copy of your feed. The receiver admits
 * the link only if its federation list names this region id with the key the channel authenticated.
 */
export const ReplicationHello = Schema.Struct({
  type: Schema.Literal("replication.hello"),
  regionId: RegionId,
  /** The receiver's feed is applied here up to this sequence number: stream from just after it. */
  appliedSeq: NonNegativeInt,
});
export type ReplicationHello = typeof ReplicationHello.Type;

/** A batch of the sender's change feed: records whose change sequence is at most upToSeq. */
export const ReplicationChanges = Schema.Struct({
  type: Schema.Literal("replication.changes"),
  batchId: RequestId,
  records: Records,
  upToSeq: NonNegativeInt,
  /** More changes were ready when the batch was cut. */
  more: Schema.Boolean,
});
export type ReplicationChanges = typeof ReplicationChanges.Type;

/** The receiver has applied (and indexed) the sender's feed up to upToSeq. */
export const ReplicationAck = Schema.Struct({
  type: Schema.Literal("replication.ack"),
  upToSeq: NonNegativeInt,
});
export type ReplicationAck = typeof ReplicationAck.Type;

export const DigestBucket = Schema.Struct({ bucket: Bucket, digest: exactBytes(32), count: NonNegativeInt });

/** Anti-entropy: the sender's bucket digests (bucket = first byte of sha256(identityId)). */
export const ReplicationDigest = Schema.Struct({
  type: Schema.Literal("replication.digest"),
  requestId: RequestId,
  /** The sender's latest change: the other side answers only once it has applied that much of its feed. */
  feedSeq: NonNegativeInt,
  buckets: Schema.Array(DigestBucket).check(Schema.isMaxLength(REPLICA_BUCKET_COUNT)),
});
export type ReplicationDigest = typeof ReplicationDigest.Type;

/**
 * Anti-entropy answer, possibly in several messages with one requestId: the sender's records in
 * buckets that differ, and (non-empty in the first answer to a digest only) the buckets it wants
 * the other side's records of in return.
 */
export const ReplicationRepair = Schema.Struct({
  type: Schema.Literal("replication.repair"),
  requestId: RequestId,
  records: Records,
  wanted: Schema.Array(Bucket).check(Schema.isMaxLength(REPLICA_BUCKET_COUNT)),
  /** Records were left out to keep one round small: the asker runs another round at once. */
  more: Schema.Boolean,
});
export type ReplicationRepair = typeof ReplicationRepair.Type;

export const replicationMessages = [ReplicationHello, ReplicationChanges, ReplicationAck, ReplicationDigest, ReplicationRepair] as const;
