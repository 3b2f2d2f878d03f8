// Region-to-region replication of the identity registry (a CRDT). A link opens with each side's
// watermarks (the newest change it holds from every origin); the other side streams deltas past
// them, acked batch by batch; periodic digests of hash buckets find anything a delta missed.
// Record contents travel as opaque bytes: they are encrypted with the registry's data keys.
import { Schema } from "effect";
import { boundedBytes, exactBytes, IdentityId, NonNegativeInt, RegionId, RequestId, Timestamp } from "./wire-fields.ts";

/** Hybrid logical clock stamp: wall time, a counter for events within the same millisecond, the stamping node. */
export const HlcStamp = Schema.Struct({
  wallMs: Timestamp,
  logical: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0x7fff_ffff })),
  nodeId: RegionId,
});

export const Watermark = Schema.Struct({ origin: RegionId, upTo: HlcStamp });

export const ReplicationHello = Schema.Struct({
  type: Schema.Literal("replication.hello"),
  regionId: RegionId,
  watermarks: Schema.Array(Watermark).check(Schema.isMaxLength(256)),
});
export type ReplicationHello = typeof ReplicationHello.Type;

export const RegistryRecordDelta = Schema.Struct({
  identityId: IdentityId,
  stamp: HlcStamp,
  kind: Schema.Literals(["upsert", "seen", "tombstone"]),
  /** Encrypted record fields (upsert only). */
  fields: Schema.optionalKey(boundedBytes(64 * 1024)),
  /** The max-register of last use (seen, and optionally upsert). */
  lastSeenAt: Schema.optionalKey(Timestamp),
});

export const ReplicationDelta = Schema.Struct({
  type: Schema.Literal("replication.delta"),
  batchId: RequestId,
  origin: RegionId,
  records: Schema.Array(RegistryRecordDelta).check(Schema.isBetweenLength(1, 1000)),
  /** Watermark the receiver may record for `origin` once the batch is applied. */
  upTo: HlcStamp,
});
export type ReplicationDelta = typeof ReplicationDelta.Type;

export const ReplicationAck = Schema.Struct({
  type: Schema.Literal("replication.ack"),
  batchId: RequestId,
  origin: RegionId,
  upTo: HlcStamp,
});
export type ReplicationAck = typeof ReplicationAck.Type;

export const DigestBucket = Schema.Struct({ bucket: NonNegativeInt, digest: exactBytes(32), count: NonNegativeInt });

export const ReplicationDigest = Schema.Struct({
  type: Schema.Literal("replication.digest"),
  requestId: RequestId,
  origin: RegionId,
  buckets: Schema.Array(DigestBucket).check(Schema.isMaxLength(4096)),
});
export type ReplicationDigest = typeof ReplicationDigest.Type;

export const replicationMessages = [ReplicationHello, ReplicationDelta, ReplicationAck, ReplicationDigest] as const;
