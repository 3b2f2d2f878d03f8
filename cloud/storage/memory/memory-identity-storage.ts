// Identity state kept in this process's memory: the storage layer for tests and tools that need
// no files. It keeps what the SQLite layer keeps and answers as it does (the conformance suite,
// test/storage/identity-storage-conformance.ts, holds both to the same behaviour): row ids that
// only grow and are never reused, one region-wide change counter that moves only when a row or a
// field actually changes, commits that keep all of their writes or none.
//
// Nothing leaves by reference: reads return fresh objects, and byte arrays are copied on the way
// in (the copies kept here are never written to, so reads may hand them out).
import { Effect, Layer } from "effect";
import {
  IdentityStorage,
  IdentityStorageFailure,
  StoredPeerUnknown,
  type IdentityStorageShape,
  type IdentityWrite,
  type RegistryCounts,
  type StoredEntitlement,
  type StoredField,
  type StoredPeer,
  type StoredRecord,
  type StoredSealedField,
} from "../identity-storage.ts";

interface IdentityRow {
  readonly identityId: string;
  readonly rowId: number;
  originRegion: string;
  created: string;
  lastSeenMs: number;
  tombstone: string | null;
  tombstoneReason: string | null;
  tombstoneSignature: Uint8Array | null;
  changeSeq: number;
  /** By name. */
  readonly fields: Map<string, StoredField>;
}

interface DeletionRequest {
  readonly requestedMs: number;
  completedMs: number | null;
}

type MutablePeer = { -readonly [K in keyof StoredPeer]: StoredPeer[K] };
type MutableEntitlement = { -readonly [K in keyof StoredEntitlement]: StoredEntitlement[K] };

/** What SQLite's STRICT INTEGER columns refuse (a fraction, NaN, infinities) is refused here too. */
const requireInteger = (what: string, value: number): void => {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be an integer, got ${value}`);
};

/** Runs `work`, turning a refusal into the operation's failure: nothing was changed before it threw. */
const attempt = <A>(operation: string, work: () => A): Effect.Effect<A, IdentityStorageFailure> =>
  Effect.try({ try: work, catch: (cause) => new IdentityStorageFailure({ operation, cause }) });

const copyBytes = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null): boolean => {
  if (a === null || b === null) return a === b;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
};

const byName = (a: StoredField, b: StoredField) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export const memoryIdentityStorage = (): IdentityStorageShape => {
  /** In insertion order, which is row id order: a row is never inserted twice. */
  const identities = new Map<string, IdentityRow>();
  const byRowId = new Map<number, IdentityRow>();
  /**
   * By change number, in change order: a row's entry moves to the end when it changes (a new
   * number is always the largest), so the feed is read without sorting.
   */
  const feed = new Map<number, IdentityRow>();
  let lastRowId = 0;
  let latestSeq = 0;
  const phoneIndex = new Map<string, string>();
  const deletionRequests = new Map<string, DeletionRequest>();
  const keys = new Map<string, Uint8Array>();
  const entitlements = new Map<string, MutableEntitlement>();
  const peers = new Map<string, MutablePeer>();

  const live = (identityId: string): IdentityRow | undefined => {
    const row = identities.get(identityId);
    return row !== undefined && row.tombstone === null ? row : undefined;
  };

  const hasOpenDeletionRequest = (identityId: string): boolean => {
    const request = deletionRequests.get(identityId);
    return request !== undefined && request.completedMs === null;
  };

  const toRecord = (row: IdentityRow): StoredRecord => ({
    identityId: row.identityId,
    rowId: row.rowId,
    originRegion: row.originRegion,
    created: row.created,
    lastSeenMs: row.lastSeenMs,
    tombstone: row.tombstone,
    tombstoneReason: row.tombstoneReason,
    tombstoneSignature: row.tombstoneSignature,
    changeSeq: row.changeSeq,
    // A tombstoned record has no fields, whatever a write left.
    fields: row.tombstone !== null ? [] : [...row.fields.values()].map((f) => ({ ...f })).sort(byName),
  });

  const sealed = (row: IdentityRow | undefined, field: string): StoredSealedField | undefined => {
    if (row === undefined || row.tombstone !== null) return undefined;
    const value = row.fields.get(field)?.value;
    const wrappedKey = keys.get(row.identityId);
    if (value == null || wrappedKey === undefined) return undefined;
    return { identityId: row.identityId, rowId: row.rowId, value, wrappedKey };
  };

  const validate = (write: IdentityWrite): void => {
    requireInteger("lastSeenMs", write.identity.lastSeenMs);
    if (write.deletionCompleted !== undefined) requireInteger("deletionCompleted.atMs", write.deletionCompleted.atMs);
  };

  /** One identity's new state; true when its row or a field changed (what moves it in the feed). */
  const apply = (write: IdentityWrite): boolean => {
    const { identityId, identity } = write;
    let row = identities.get(identityId);
    let changed = false;
    if (row === undefined) {
      row = {
        identityId,
        rowId: ++lastRowId,
        originRegion: identity.originRegion,
        created: identity.created,
        lastSeenMs: identity.lastSeenMs,
        tombstone: identity.tombstone,
        tombstoneReason: identity.tombstoneReason,
        tombstoneSignature: identity.tombstoneSignature === null ? null : copyBytes(identity.tombstoneSignature),
        changeSeq: 0,
        fields: new Map(),
      };
      identities.set(identityId, row);
      byRowId.set(row.rowId, row);
      changed = true;
    } else if (
      row.originRegion !== identity.originRegion ||
      row.created !== identity.created ||
      row.lastSeenMs !== identity.lastSeenMs ||
      row.tombstone !== identity.tombstone ||
      row.tombstoneReason !== identity.tombstoneReason ||
      !sameBytes(row.tombstoneSignature, identity.tombstoneSignature)
    ) {
      row.originRegion = identity.originRegion;
      row.created = identity.created;
      row.lastSeenMs = identity.lastSeenMs;
      row.tombstone = identity.tombstone;
      row.tombstoneReason = identity.tombstoneReason;
      row.tombstoneSignature = identity.tombstoneSignature === null ? null : copyBytes(identity.tombstoneSignature);
      changed = true;
    }
    if (write.dropFields && row.fields.size > 0) {
      row.fields.clear();
      changed = true;
    }
    for (const field of write.fields) {
      const before = row.fields.get(field.name);
      if (before !== undefined && before.stamp === field.stamp && sameBytes(before.value, field.value) && sameBytes(before.signature, field.signature))
        continue;
      row.fields.set(field.name, {
        name: field.name,
        stamp: field.stamp,
        value: field.value === null ? null : copyBytes(field.value),
        signature: field.signature === null ? null : copyBytes(field.signature),
      });
      changed = true;
    }
    if (write.phoneHash !== undefined) {
      for (const [hash, id] of phoneIndex) if (id === identityId) phoneIndex.delete(hash);
      if (write.phoneHash !== null) phoneIndex.set(write.phoneHash, identityId);
    }
    if (write.dropEntitlements === true) {
      for (const [id, e] of entitlements) if (e.identityId === identityId) entitlements.delete(id);
    }
    if (write.deletionCompleted !== undefined) {
      const { atMs, record } = write.deletionCompleted;
      const request = deletionRequests.get(identityId);
      if (request === undefined) {
        if (record) deletionRequests.set(identityId, { requestedMs: atMs, completedMs: atMs });
      } else if (request.completedMs === null) request.completedMs = atMs;
    }
    return changed;
  };

  const fieldsOfLive = (field: string, rows: Iterable<IdentityRow | undefined>, limit = Number.POSITIVE_INFINITY): StoredSealedField[] => {
    const out: StoredSealedField[] = [];
    for (const row of rows) {
      if (out.length >= limit) break;
      const found = sealed(row, field);
      if (found !== undefined) out.push(found);
    }
    return out;
  };

  const renumber = (row: IdentityRow): void => {
    feed.delete(row.changeSeq);
    row.changeSeq = ++latestSeq;
    feed.set(row.changeSeq, row);
  };

  function* changedAfter(afterSeq: number): Generator<IdentityRow> {
    for (const [seq, row] of feed) if (seq > afterSeq) yield row;
  }

  const copyPeer = (p: MutablePeer): StoredPeer => ({ ...p });
  const copyEntitlement = (e: MutableEntitlement): StoredEntitlement => ({ ...e });

  return {
    record: (identityId) =>
      Effect.sync(() => {
        const row = identities.get(identityId);
        return row === undefined ? undefined : toRecord(row);
      }),

    commit: (writes) =>
      attempt("commit", () => {
        for (const write of writes) validate(write);
        for (const write of writes) {
          if (apply(write)) renumber(identities.get(write.identityId)!);
        }
      }),

    raiseLastSeen: (identityId, atMs) =>
      attempt("raiseLastSeen", () => {
        requireInteger("atMs", atMs);
        const row = live(identityId);
        if (row === undefined || row.lastSeenMs >= atMs) return false;
        row.lastSeenMs = atMs;
        renumber(row);
        return true;
      }),

    counts: () =>
      Effect.sync((): RegistryCounts => {
        let liveCount = 0;
        for (const row of identities.values()) if (row.tombstone === null) liveCount++;
        return { live: liveCount, tombstones: identities.size - liveCount, watermark: lastRowId, latestSeq };
      }),

    latestSeq: () => Effect.sync(() => latestSeq),

    liveIdentityIds: () => Effect.sync(() => [...identities.values()].filter((r) => r.tombstone === null).map((r) => r.identityId)),

    allIdentityIds: () => Effect.sync(() => [...identities.keys()].sort()),

    liveFieldOf: (field, identityIds) =>
      Effect.sync(() =>
        fieldsOfLive(
          field,
          identityIds.map((id) => identities.get(id)),
        ),
      ),

    liveFieldAfter: (field, afterRowId, limit) =>
      Effect.sync(() =>
        fieldsOfLive(
          field,
          [...identities.values()].filter((r) => r.rowId > afterRowId),
          limit,
        ),
      ),

    liveFieldAtRows: (field, rowIds) =>
      Effect.sync(() =>
        fieldsOfLive(
          field,
          rowIds.map((r) => byRowId.get(r)),
        ),
      ),

    findByPhoneHash: (phoneHash) => Effect.sync(() => phoneIndex.get(phoneHash)),

    changedSince: (afterSeq, limit) =>
      Effect.sync(() => {
        const out: StoredRecord[] = [];
        for (const row of changedAfter(afterSeq)) {
          if (out.length >= limit) break;
          out.push(toRecord(row));
        }
        return out;
      }),

    changedIdsSince: (afterSeq) => Effect.sync(() => Array.from(changedAfter(afterSeq), (r) => ({ identityId: r.identityId, changeSeq: r.changeSeq }))),

    liveChangeSeqs: () =>
      Effect.sync(() => [...identities.values()].filter((r) => r.tombstone === null).map((r) => ({ identityId: r.identityId, changeSeq: r.changeSeq }))),

    unsignedIdentityIds: () =>
      Effect.sync(() =>
        [...identities.values()]
          .filter((r) => (r.tombstone !== null ? r.tombstoneSignature === null : [...r.fields.values()].some((f) => f.signature === null)))
          .map((r) => r.identityId)
          .sort(),
      ),

    leastRecentlySeen: ({ regionId, own, atMostMs, limit }) =>
      Effect.sync(() =>
        [...identities.values()]
          .filter((r) => r.tombstone === null && (r.originRegion === regionId) === own && r.lastSeenMs <= atMostMs && !hasOpenDeletionRequest(r.identityId))
          .sort((a, b) => a.lastSeenMs - b.lastSeenMs || a.rowId - b.rowId)
          .slice(0, Math.max(0, limit))
          .map((r) => ({ identityId: r.identityId, lastSeenMs: r.lastSeenMs })),
      ),

    recordDeletionRequest: (identityId, atMs) =>
      attempt("recordDeletionRequest", () => {
        requireInteger("atMs", atMs);
        // The first request's time is kept, even once it is closed.
        if (!deletionRequests.has(identityId)) deletionRequests.set(identityId, { requestedMs: atMs, completedMs: null });
      }),

    openDeletionRequests: () => Effect.sync(() => [...deletionRequests].filter(([, r]) => r.completedMs === null).map(([id]) => id)),

    storeWrappedKeys: (entries, { onlyMissing }) =>
      attempt("storeWrappedKeys", () => {
        const seen = new Set<string>();
        for (const { identityId } of entries) {
          if (!onlyMissing && (keys.has(identityId) || seen.has(identityId))) throw new Error(`identity ${identityId} already has a data key`);
          seen.add(identityId);
        }
        for (const { identityId, wrapped } of entries) if (!keys.has(identityId)) keys.set(identityId, copyBytes(wrapped));
      }),

    wrappedKey: (identityId) => Effect.sync(() => keys.get(identityId)),

    destroyKeys: (identityIds) =>
      Effect.sync(() => {
        for (const id of identityIds) keys.delete(id);
      }),

    sweepOrphanKeys: () =>
      Effect.sync(() => {
        let swept = 0;
        for (const id of [...keys.keys()]) {
          if (live(id) === undefined) {
            keys.delete(id);
            swept++;
          }
        }
        return swept;
      }),

    insertEntitlement: (entitlement) =>
      attempt("insertEntitlement", () => {
        if (entitlements.has(entitlement.entitlementId)) throw new Error(`entitlement ${entitlement.entitlementId} exists`);
        requireInteger("validFromMs", entitlement.validFromMs);
        requireInteger("validUntilMs", entitlement.validUntilMs);
        requireInteger("entriesUsed", entitlement.entriesUsed);
        if (entitlement.entriesAllowed !== null) requireInteger("entriesAllowed", entitlement.entriesAllowed);
        if (entitlement.revokedMs !== null) requireInteger("revokedMs", entitlement.revokedMs);
        entitlements.set(entitlement.entitlementId, { ...entitlement });
      }),

    entitlement: (entitlementId) =>
      Effect.sync(() => {
        const e = entitlements.get(entitlementId);
        return e === undefined ? undefined : copyEntitlement(e);
      }),

    entitlementsOf: (identityId, venueId) =>
      Effect.sync(() =>
        [...entitlements.values()]
          .filter((e) => e.identityId === identityId && e.revokedMs === null && (venueId === undefined || e.venueId === venueId))
          .map(copyEntitlement),
      ),

    revokeEntitlement: (entitlementId, atMs) =>
      attempt("revokeEntitlement", () => {
        requireInteger("atMs", atMs);
        const e = entitlements.get(entitlementId);
        if (e === undefined || e.revokedMs !== null) return false;
        e.revokedMs = atMs;
        return true;
      }),

    countEntry: (entitlementId) =>
      Effect.sync(() => {
        const e = entitlements.get(entitlementId);
        if (e === undefined || (e.entriesAllowed !== null && e.entriesUsed >= e.entriesAllowed)) return false;
        e.entriesUsed++;
        return true;
      }),

    peer: (regionId) =>
      Effect.sync(() => {
        const p = peers.get(regionId);
        return p === undefined ? undefined : copyPeer(p);
      }),

    peers: () => Effect.sync(() => [...peers.values()].sort((a, b) => (a.regionId < b.regionId ? -1 : a.regionId > b.regionId ? 1 : 0)).map(copyPeer)),

    addPeer: (regionId, publicKey) =>
      attempt("addPeer", () => {
        if (peers.has(regionId)) throw new Error(`region ${regionId} is a peer already`);
        peers.set(regionId, { regionId, publicKey: copyBytes(publicKey), ackedSeq: 0, appliedSeq: 0, lastContactMs: null });
      }),

    advancePeer: (regionId, which, seq, atMs) =>
      Effect.suspend((): Effect.Effect<void, IdentityStorageFailure | StoredPeerUnknown> => {
        const p = peers.get(regionId);
        if (p === undefined) return Effect.fail(new StoredPeerUnknown({ regionId }));
        return attempt("advancePeer", () => {
          requireInteger("seq", seq);
          requireInteger("atMs", atMs);
          if (which === "acked") p.ackedSeq = Math.max(p.ackedSeq, seq);
          else p.appliedSeq = Math.max(p.appliedSeq, seq);
          p.lastContactMs = atMs;
        });
      }),
  };
};

export const MemoryIdentityStorageLive = Layer.sync(IdentityStorage, memoryIdentityStorage);
