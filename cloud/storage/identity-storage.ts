// Where identity state rests: the interface every storage layer implements (SQLite, the embedded
// default; in-memory, for tests and tools; a PostgreSQL layer later), and the one suite they all
// pass (test/storage/identity-storage-conformance.ts).
//
// Storage applies no rule of the record: the identity registry (cloud/identity/identity-registry.ts)
// decides each identity's new state (the CRDT merge, the tombstone that drops every field, the
// phone index following the phone register) and hands it here whole, in one `commit`. Storage
// keeps what it is given atomically, numbers every change from one region-wide counter (the
// replication feed's order) and answers reads. It never sees a clear data key, template or
// field: values are ciphertexts, keys are wrapped by the region's storage key.
//
// Every operation is an Effect, so a layer over a network database fits the same interface.
import { Context, Data, type Effect } from "effect";

/** One identity's row: its lifecycle, never its attributes. */
export interface StoredIdentity {
  readonly identityId: string;
  /** Enrollment order in this region: rows only ever get larger ids, never reused (index snapshots replay by it). */
  readonly rowId: number;
  readonly originRegion: string;
  /** Encoded HLC (core/hybrid-logical-clock.ts encodeHlc): encoded stamps sort like the clock. */
  readonly created: string;
  readonly lastSeenMs: number;
  readonly tombstone: string | null;
  /** With a tombstone: why, and the deleting region's signature over it (null on tombstones from before signatures). */
  readonly tombstoneReason: string | null;
  readonly tombstoneSignature: Uint8Array | null;
  /** The region-wide change number of the identity's latest change (row or field). */
  readonly changeSeq: number;
}

/** One attribute register: ciphertext under the identity's data key, null once cleared. */
export interface StoredField {
  readonly name: string;
  readonly stamp: string;
  readonly value: Uint8Array | null;
  /** The writing region's signature over the write; null on registers stored before signatures. */
  readonly signature: Uint8Array | null;
}

export interface StoredRecord extends StoredIdentity {
  /** By name; a tombstoned record has none. */
  readonly fields: readonly StoredField[];
}

/** One field of live identities, with what is needed to decrypt it (the wrapped data key). */
export interface StoredSealedField {
  readonly identityId: string;
  readonly rowId: number;
  readonly value: Uint8Array;
  readonly wrappedKey: Uint8Array;
}

/**
 * One identity's new state, decided by the registry. `identity` is the whole row (inserted when
 * absent); `fields` are registers to store as given; `dropFields` removes every field first.
 */
export interface IdentityWrite {
  readonly identityId: string;
  readonly identity: {
    readonly originRegion: string;
    readonly created: string;
    readonly lastSeenMs: number;
    readonly tombstone: string | null;
    readonly tombstoneReason: string | null;
    readonly tombstoneSignature: Uint8Array | null;
  };
  readonly fields: readonly StoredField[];
  readonly dropFields: boolean;
  /** The phone index entry: a keyed hash, null to remove it, absent to leave it as it is. */
  readonly phoneHash?: string | null;
  /** Removes the identity's entitlements (a deletion). */
  readonly dropEntitlements?: boolean;
  /**
   * Closes the identity's deletion request at this time; `record` also records a closed request
   * when none was open (a deletion made here).
   */
  readonly deletionCompleted?: { readonly atMs: number; readonly record: boolean };
}

/** A peer region's replication progress: how far each feed has gone (and the key it linked with; never trusted from here). */
export interface StoredPeer {
  readonly regionId: string;
  readonly publicKey: Uint8Array;
  /** The peer has applied this region's feed up to here. */
  readonly ackedSeq: number;
  /** This region has applied the peer's feed up to here. */
  readonly appliedSeq: number;
  readonly lastContactMs: number | null;
}

export interface StoredEntitlement {
  readonly entitlementId: string;
  readonly identityId: string;
  readonly kind: string;
  readonly venueId: string;
  readonly label: string;
  readonly validFromMs: number;
  readonly validUntilMs: number;
  /** null: unlimited. */
  readonly entriesAllowed: number | null;
  readonly entriesUsed: number;
  /** Badges: their weekly windows, as JSON. */
  readonly schedule: string | null;
  readonly revokedMs: number | null;
}

export interface RegistryCounts {
  readonly live: number;
  readonly tombstones: number;
  /** The largest row id so far (0 when empty): what an index snapshot records it covers. */
  readonly watermark: number;
  /** The last change number given out (0 before any change). */
  readonly latestSeq: number;
}

/** The storage failed (disk full, I/O error, a constraint): nothing of the operation was kept. */
export class IdentityStorageFailure extends Data.TaggedError("IdentityStorageFailure")<{ readonly operation: string; readonly cause: unknown }> {
  override get message() {
    return `identity storage: ${this.operation} failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`;
  }
}

/** A peer's progress was recorded before the peer was added. */
export class StoredPeerUnknown extends Data.TaggedError("StoredPeerUnknown")<{ readonly regionId: string }> {
  override get message() {
    return `region ${this.regionId} is not a tracked peer: add it before recording its progress`;
  }
}

type Op<A, E = never> = Effect.Effect<A, IdentityStorageFailure | E>;

export interface IdentityStorageShape {
  // Identities and their fields
  readonly record: (identityId: string) => Op<StoredRecord | undefined>;
  /** Applies every write in one atomic commit, each change numbered in the feed. */
  readonly commit: (writes: readonly IdentityWrite[]) => Op<void>;
  /**
   * Raises last-seen to `atMs` when it is lower (a max-register) for a live identity; may skip
   * waiting for the disk (a lost raise only delays an expiry). True when it rose.
   */
  readonly raiseLastSeen: (identityId: string, atMs: number) => Op<boolean>;
  /** Counts (live ones by a scan: for status and metrics, not for every request). */
  readonly counts: () => Op<RegistryCounts>;
  /** The last change number given out (0 before any change); cheap, read on every feed step. */
  readonly latestSeq: () => Op<number>;
  readonly liveIdentityIds: () => Op<string[]>;
  /** Every identity id, tombstones included, sorted. */
  readonly allIdentityIds: () => Op<string[]>;
  /** One field of the live identities among `identityIds`, in the order asked; others are left out. */
  readonly liveFieldOf: (field: string, identityIds: readonly string[]) => Op<StoredSealedField[]>;
  /** One field of live identities with rowId > afterRowId, by rowId, at most `limit`. */
  readonly liveFieldAfter: (field: string, afterRowId: number, limit: number) => Op<StoredSealedField[]>;
  /** One field of the live identities at the given row ids. */
  readonly liveFieldAtRows: (field: string, rowIds: readonly number[]) => Op<StoredSealedField[]>;
  readonly findByPhoneHash: (phoneHash: string) => Op<string | undefined>;

  // The change feed
  /** Records whose change number is above `afterSeq`, in change order, at most `limit`. */
  readonly changedSince: (afterSeq: number, limit: number) => Op<StoredRecord[]>;
  /** Ids and change numbers above `afterSeq` (no fields): what a digest refresh reads. */
  readonly changedIdsSince: (afterSeq: number) => Op<{ identityId: string; changeSeq: number }[]>;
  /** Live ids with their change numbers. */
  readonly liveChangeSeqs: () => Op<{ identityId: string; changeSeq: number }[]>;
  /** Identities with a field or a tombstone stored without a signature (written before signatures), sorted. */
  readonly unsignedIdentityIds: () => Op<string[]>;

  // Expiry
  /**
   * Live identities with no open deletion request, oldest last-seen first, from this region
   * (`own`) or from others, with last-seen at most `atMostMs`, at most `limit`.
   */
  readonly leastRecentlySeen: (q: { regionId: string; own: boolean; atMostMs: number; limit: number }) => Op<{ identityId: string; lastSeenMs: number }[]>;

  // Deletion requests (local to the region)
  readonly recordDeletionRequest: (identityId: string, atMs: number) => Op<void>;
  readonly openDeletionRequests: () => Op<string[]>;

  // Data keys: wrapped, each write committed on its own before (enroll) or after (deletion) the record's
  /** Stores keys; a key already there fails the whole call (`onlyMissing`: kept instead). */
  readonly storeWrappedKeys: (entries: readonly { identityId: string; wrapped: Uint8Array }[], options: { onlyMissing: boolean }) => Op<void>;
  readonly wrappedKey: (identityId: string) => Op<Uint8Array | undefined>;
  readonly destroyKeys: (identityIds: readonly string[]) => Op<void>;
  /** Destroys keys whose identity is tombstoned or absent (what a crash between two commits leaves). */
  readonly sweepOrphanKeys: () => Op<number>;

  // Entitlements hanging off an identity
  readonly insertEntitlement: (entitlement: StoredEntitlement) => Op<void>;
  readonly entitlement: (entitlementId: string) => Op<StoredEntitlement | undefined>;
  /** Unrevoked entitlements of an identity, optionally at one venue (a tombstone drops them: IdentityWrite.dropEntitlements). */
  readonly entitlementsOf: (identityId: string, venueId?: string) => Op<StoredEntitlement[]>;
  readonly revokeEntitlement: (entitlementId: string, atMs: number) => Op<boolean>;
  /** Counts one entry if any is left; false when none is. */
  readonly countEntry: (entitlementId: string) => Op<boolean>;

  // Peers of the federation
  readonly peer: (regionId: string) => Op<StoredPeer | undefined>;
  readonly peers: () => Op<StoredPeer[]>;
  readonly addPeer: (regionId: string, publicKey: Uint8Array) => Op<void>;
  /** Moves a peer's progress forward (never back); may skip waiting for the disk. */
  readonly advancePeer: (regionId: string, which: "acked" | "applied", seq: number, atMs: number) => Op<void, StoredPeerUnknown>;
}

export class IdentityStorage extends Context.Service<IdentityStorage, IdentityStorageShape>()("palmline/IdentityStorage") {}
