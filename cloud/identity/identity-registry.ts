// The identity registry: the region's source of truth for who is enrolled, and the only code that
// reads or writes identity state (identities, their encrypted fields, the phone index, deletion
// requests, entitlements, data keys, the replication feed and peers). FAISS shards are derived
// from it; nothing is identifiable unless it is here and live.
//
// Every change, made here or merged from a peer, goes through one commit (#commitRecords) that
// applies the record's rules once: the CRDT merge (core/identity-record-crdt.ts), a tombstone
// drops every field, the phone index and the entitlements and closes the deletion request, the
// phone index follows the phone register, data keys are stored before their record and destroyed
// after its tombstone. Every write is signed by the region that makes it (write-signatures.ts)
// and allowed by write-authority.ts: checked here before it is stored, and in every region before
// it is merged. Each commit is then published on `changes` (registry-change.ts): shards,
// deletion completion, the replication feed and metrics follow the registry from there.
import { Context, Effect, Layer, PubSub, type Scope } from "effect";
import { decodeHlc, encodeHlc, type HlcTimestamp, type HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import { mergeIdentityRecords, tombstoneRecord, type FieldRegister, type IdentityRecord } from "../../core/identity-record-crdt.ts";
import type { IdentityId } from "../../core/ids.ts";
import { decodePalmTemplate, encodePalmTemplate, type PalmTemplate } from "../../core/palm-template.ts";
import {
  IdentityStorage,
  type IdentityStorageFailure,
  type IdentityWrite,
  type StoredEntitlement,
  type StoredPeerUnknown,
  type StoredRecord,
  type StoredSealedField,
} from "../storage/identity-storage.ts";
import type { IdentityVault } from "../storage/identity-vault.ts";
import { decodeFieldValue, encodeFieldValue, PHONE_FIELD, PROFILE_FIELDS, TEMPLATE_FIELD, type IdentityProfileFields } from "./identity-fields.ts";
import { bucketOf, recordDigest, RegistryDigests, type BucketDigest } from "./record-digest.ts";
import type { RegistryChange } from "./registry-change.ts";
import {
  DATA_KEY_BYTES,
  ReplicatedRecordInvalid,
  toIdentityRecord,
  type ReplicatedField,
  type ReplicatedRecord,
  type TombstoneReason,
} from "./replicated-record.ts";
import { IdentityNotLive } from "./identity-not-live.ts";
import { fieldWriteRefusal, tombstoneRefusal, WriteNotAuthorised } from "./write-authority.ts";
import { PhoneAlreadyLinked } from "./phone-already-linked.ts";
import { WriteSignatures } from "./write-signatures.ts";
import { pinnedRegionKeys, type RegionKeys } from "./region-keys.ts";
import type { IdentityKeyPair } from "../../protocol/index.ts";
import type { Sodium } from "../../protocol/sodium.ts";

export interface EnrolledTemplate {
  readonly identityId: IdentityId;
  readonly template: PalmTemplate;
  /** The identity's row in the registry: rows only ever get larger ids, so it orders enrollment. */
  readonly rowid: number;
}

export interface Enrollment {
  readonly identityId: IdentityId;
  readonly template: PalmTemplate;
  /** Card, phone, loyalty card: committed with the template, never after it. */
  readonly profile?: IdentityProfileFields;
}

/** What a merge of peers' records did here. */
export interface MergeOutcome {
  /** Records whose stored state changed. */
  readonly changed: number;
  /** The merge's change number (what the index must reach); 0 when it changed nothing. */
  readonly seq: number;
  /**
   * Identities whose record here is now exactly the one received, with the change number it has
   * here: the sender holds that state already, so the feed need not send it back.
   */
  readonly adopted: ReadonlyMap<string, number>;
}

/** A record as the change feed gives it: with its place in the feed. */
export type ChangedRecord = ReplicatedRecord & { readonly changeSeq: number };

/** Where a repair stopped: the last record sent, by bucket and identity id. */
export interface RepairPosition {
  readonly bucket: number;
  readonly identityId: string;
}

export interface PeerState {
  readonly regionId: string;
  readonly publicKey: Uint8Array;
  readonly ackedSeq: number;
  readonly appliedSeq: number;
  readonly lastContactMs: number | null;
}

type Fails<A, E = never> = Effect.Effect<A, IdentityStorageFailure | E>;

export interface IdentityRegistryShape {
  readonly regionId: string;
  /** Every commit from now on, in order: subscribe before the first commit to miss none. */
  readonly subscribeChanges: Effect.Effect<PubSub.Subscription<RegistryChange>, never, Scope.Scope>;

  // Enrollment and use
  /** New identities with their templates and profiles: data keys first, then every record in one commit. */
  readonly enroll: (enrollments: readonly Enrollment[], nowMs: number) => Fails<RegistryChange, PhoneAlreadyLinked>;
  /** Raises last-seen (a max-register); a use, so it keeps the identity from expiring. */
  readonly recordSeen: (identityId: string, nowMs: number) => Fails<void>;
  readonly isLive: (identityId: string) => Fails<boolean>;
  /** When a live identity was enrolled and last used; undefined once deleted. */
  readonly lifecycle: (identityId: string) => Fails<{ enrolledAtMs: number; lastSeenMs: number; originRegion: string } | undefined>;
  readonly liveCount: () => Fails<number>;
  readonly liveIdentityIds: () => Fails<IdentityId[]>;
  /** The largest row id so far: the watermark an index snapshot records it covers. */
  readonly watermark: () => Fails<number>;
  /** Live templates (decrypted) after a row, in enrollment order, at most `limit`. */
  readonly liveTemplates: (afterRowId: number, limit: number) => Fails<EnrolledTemplate[]>;
  /** Live identities' templates (decrypted), in the order asked; deleted or unknown ids are left out. */
  readonly templatesOf: (identityIds: readonly string[]) => Fails<EnrolledTemplate[]>;
  /** Live templates at random rows (training samples for a learned index). */
  readonly sampleTemplates: (count: number, random?: () => number) => Fails<EnrolledTemplate[]>;

  // Profile and lifecycle registers
  /** Profile values are this region's to write only for identities enrolled here (write-authority.ts). */
  readonly writeProfile: (identityId: string, fields: IdentityProfileFields) => Fails<void, IdentityNotLive | WriteNotAuthorised | PhoneAlreadyLinked>;
  readonly clearProfileField: (identityId: string, name: keyof IdentityProfileFields) => Fails<void, WriteNotAuthorised>;
  readonly readProfile: (identityId: string) => Fails<IdentityProfileFields>;
  /** Writes one lifecycle register; false (nothing written) once the identity is not live. */
  readonly writeRegister: (identityId: string, field: string, value: unknown) => Fails<boolean, WriteNotAuthorised>;
  /** The registers whose name starts with `prefix`, decrypted; empty once the identity is deleted. */
  readonly readRegisters: (identityId: string, prefix: string) => Fails<Map<string, unknown>>;
  readonly findByPhone: (phone: string) => Fails<string | undefined>;

  // Deletion
  readonly recordDeletionRequest: (identityId: string, nowMs: number) => Fails<void>;
  readonly openDeletionRequests: () => Fails<string[]>;
  /** Tombstone (fields, phone index and entitlements dropped, request closed), signed with its reason, then the data key destroyed. */
  readonly tombstone: (identityId: string, nowMs: number, reason: TombstoneReason) => Fails<RegistryChange>;
  /** Live identities not waiting on a deletion, least recently seen first (expiry). */
  readonly leastRecentlySeen: (q: { own: boolean; atMostMs: number; limit: number }) => Fails<{ identityId: string; lastSeenMs: number }[]>;

  // Entitlements hanging off an identity (dropped with it)
  readonly grantEntitlement: (entitlement: StoredEntitlement) => Fails<void, IdentityNotLive>;
  readonly entitlement: (entitlementId: string) => Fails<StoredEntitlement | undefined>;
  readonly entitlementsOf: (identityId: string, venueId?: string) => Fails<StoredEntitlement[]>;
  readonly revokeEntitlement: (entitlementId: string, nowMs: number) => Fails<boolean>;
  readonly countEntry: (entitlementId: string) => Fails<boolean>;

  // Replication
  readonly latestSeq: () => Fails<number>;
  readonly changesSince: (
    afterSeq: number,
    limits?: { maxRecords?: number; maxBytes?: number },
  ) => Fails<{ records: ChangedRecord[]; upToSeq: number; more: boolean }>;
  readonly merge: (records: readonly ReplicatedRecord[]) => Fails<MergeOutcome, ReplicatedRecordInvalid>;
  readonly digest: () => Fails<string>;
  readonly bucketDigests: () => Fails<BucketDigest[]>;
  readonly recordsInBuckets: (
    buckets: readonly number[],
    after: RepairPosition | undefined,
    limit: number,
  ) => Fails<(ReplicatedRecord & { readonly bucket: number })[]>;
  /** Starts keeping replication progress for a peer the federation list admitted (no trust: progress only). */
  readonly trackPeer: (regionId: string, publicKey: Uint8Array) => Fails<void>;
  readonly peerStates: () => Fails<PeerState[]>;
  readonly recordAcked: (regionId: string, seq: number, nowMs: number) => Fails<void, StoredPeerUnknown>;
  readonly recordApplied: (regionId: string, seq: number, nowMs: number) => Fails<void, StoredPeerUnknown>;
  readonly appliedSeq: (regionId: string) => Fails<number>;
  readonly tombstoneCount: () => Fails<number>;
}

export class IdentityRegistry extends Context.Service<IdentityRegistry, IdentityRegistryShape>()("palmline/IdentityRegistry") {}

export interface IdentityRegistrySettings {
  readonly regionId: string;
  readonly vault: IdentityVault;
  readonly hlc: HybridLogicalClock;
  /** The phone index's keyed hash (phone-hash.ts). */
  readonly phoneHash: (phone: string) => string;
  readonly sodium: Sodium;
  /** This region's identity key: it signs every write made here. */
  readonly identityKey: IdentityKeyPair;
  /** The federation's keys, to check writes made elsewhere; the peers pinned in storage when absent. */
  readonly regionKeys?: RegionKeys;
}

/** Overhead counted per record and per field when a feed batch is cut by size (ids, stamps, framing). */
const RECORD_OVERHEAD_BYTES = 160;
const FIELD_OVERHEAD_BYTES = 48;
/** Records read from storage per step of the feed. */
const FEED_PAGE = 64;

/** One identity before and after a change, as the commit sees it. */
interface RecordChange {
  readonly identityId: string;
  readonly origin: string;
  readonly before: IdentityRecord | undefined;
  readonly after: IdentityRecord;
  /** The after-state's tombstone's reason and signature (null while live, or on a tombstone from before signatures). */
  readonly tombstoneProof: TombstoneProof | null;
}

interface TombstoneProof {
  readonly reason: string;
  readonly signature: Uint8Array;
}

const proofOf = (stored: StoredRecord): TombstoneProof | null =>
  stored.tombstoneReason !== null && stored.tombstoneSignature !== null ? { reason: stored.tombstoneReason, signature: stored.tombstoneSignature } : null;

const toRecord = (stored: StoredRecord): IdentityRecord => ({
  identityId: stored.identityId,
  created: decodeHlc(stored.created),
  lastSeenMs: stored.lastSeenMs,
  tombstone: stored.tombstone === null ? undefined : decodeHlc(stored.tombstone),
  // Canonical form: a tombstoned record has no fields, whatever rows a crash may have left.
  fields:
    stored.tombstone === null
      ? Object.fromEntries(stored.fields.map((f) => [f.name, { stamp: decodeHlc(f.stamp), value: f.value, signature: f.signature }]))
      : {},
});

/**
 * A stored record as peers receive it. What carries no signature (stored before signatures, and
 * not this region's to sign) stays here: registers are left out (their writer signs and sends
 * them), a record whose tombstone is unsigned is not sent (undefined). Peers refuse unsigned writes.
 */
const toReplicated = (stored: StoredRecord, dataKey: Uint8Array | undefined): ReplicatedRecord | undefined => {
  const record = toRecord(stored);
  const proof = proofOf(stored);
  if (record.tombstone !== undefined && proof === null) return undefined;
  return {
    identityId: stored.identityId,
    originRegion: stored.originRegion,
    created: record.created,
    lastSeenMs: record.lastSeenMs,
    tombstone: record.tombstone,
    ...(proof !== null ? { tombstoneReason: proof.reason, tombstoneSignature: proof.signature } : {}),
    dataKey: record.tombstone === undefined ? dataKey : undefined,
    fields: Object.entries(record.fields)
      .flatMap(([name, r]): ReplicatedField[] => (r.signature == null ? [] : [{ name, stamp: r.stamp, value: r.value, signature: r.signature }]))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
};

const sameStamp = (a: HlcTimestamp, b: HlcTimestamp) => encodeHlc(a) === encodeHlc(b);

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null) => (a === null || b === null ? a === b : Buffer.from(a).equals(Buffer.from(b)));

/** Whether a change moved one register. */
const registerChanged = (before: IdentityRecord | undefined, after: IdentityRecord, name: string): boolean => {
  const a = after.fields[name];
  const b = before?.fields[name];
  if (a === undefined || b === undefined) return a !== b;
  return encodeHlc(a.stamp) !== encodeHlc(b.stamp) || !sameBytes(a.value, b.value);
};

/** Whether a change moved a register or only added its signature: either is stored. */
const registerWritten = (before: IdentityRecord | undefined, after: IdentityRecord, name: string): boolean =>
  registerChanged(before, after, name) || !sameBytes(before?.fields[name]?.signature ?? null, after.fields[name]?.signature ?? null);

export const makeIdentityRegistry = (settings: IdentityRegistrySettings) =>
  Effect.gen(function* () {
    const storage = yield* IdentityStorage;
    const { regionId, vault, hlc, phoneHash } = settings;
    const signatures = new WriteSignatures(settings.sodium, regionId, settings.identityKey, settings.regionKeys ?? pinnedRegionKeys(storage));
    const published = yield* PubSub.unbounded<RegistryChange>();
    /** Every live record's digest, folded into its bucket's, refreshed from the feed. */
    let digests = new RegistryDigests();
    /** The feed position the digests are up to date with; -1 before the first digest. */
    let digestSeq = -1;

    const withKey = <A>(identityId: string, use: (dataKey: Uint8Array) => A) =>
      Effect.map(storage.wrappedKey(identityId), (wrapped) => {
        if (wrapped === undefined) return undefined;
        const dataKey = vault.unwrapDataKey(identityId, wrapped);
        try {
          return use(dataKey);
        } finally {
          dataKey.fill(0);
        }
      });

    const openTemplate = (row: StoredSealedField): EnrolledTemplate => {
      const dataKey = vault.unwrapDataKey(row.identityId, row.wrappedKey);
      const plain = vault.decryptField(row.identityId, TEMPLATE_FIELD, dataKey, row.value);
      dataKey.fill(0);
      try {
        return { identityId: row.identityId as IdentityId, template: decodePalmTemplate(plain), rowid: row.rowId };
      } finally {
        plain.fill(0);
      }
    };

    /** The phone index entry a change leaves: a hash of the new number, null for none, undefined when unchanged. */
    const phoneIndexOf = (change: RecordChange, dataKey: Uint8Array | undefined): string | null | undefined => {
      if (change.after.tombstone !== undefined) return null;
      if (!registerChanged(change.before, change.after, PHONE_FIELD)) return undefined;
      const register = change.after.fields[PHONE_FIELD];
      if (register?.value == null || dataKey === undefined) return null;
      const plain = vault.decryptField(change.identityId, PHONE_FIELD, dataKey, register.value);
      try {
        const phone = decodeFieldValue(plain);
        return typeof phone === "string" ? phoneHash(phone) : null;
      } finally {
        plain.fill(0);
      }
    };

    /**
     * A number finds one person: this region gives no identity a number another live identity
     * holds. (A peer's write is indexed as it comes: its region refused a taken number already;
     * two regions enrolling one number at the same moment leave the index to the later write.)
     */
    const refuseTakenPhone = (identityId: string, phone: string | undefined) =>
      Effect.gen(function* () {
        if (phone === undefined) return;
        const holder = yield* storage.findByPhoneHash(phoneHash(phone));
        if (holder !== undefined && holder !== identityId) return yield* Effect.fail(new PhoneAlreadyLinked({ identityId }));
      });

    /** The one commit every change goes through: the record's rules, applied once. */
    const commitRecords = (changes: readonly RecordChange[], source: RegistryChange["source"], nowMs: number) =>
      Effect.gen(function* () {
        const writes: IdentityWrite[] = [];
        const indexed: IdentityId[] = [];
        const replaced: IdentityId[] = [];
        const removed: IdentityId[] = [];
        for (const change of changes) {
          const { after, before } = change;
          const tombstoned = after.tombstone !== undefined;
          const dataKey = tombstoned || !registerChanged(before, after, PHONE_FIELD) ? undefined : yield* withKey(change.identityId, (key) => key.slice());
          try {
            writes.push({
              identityId: change.identityId,
              identity: {
                originRegion: change.origin,
                created: encodeHlc(after.created),
                lastSeenMs: after.lastSeenMs,
                tombstone: tombstoned ? encodeHlc(after.tombstone!) : null,
                tombstoneReason: tombstoned ? (change.tombstoneProof?.reason ?? null) : null,
                tombstoneSignature: tombstoned ? (change.tombstoneProof?.signature ?? null) : null,
              },
              fields: tombstoned
                ? []
                : Object.entries(after.fields)
                    .filter(([name]) => registerWritten(before, after, name))
                    .map(([name, r]) => ({ name, stamp: encodeHlc(r.stamp), value: r.value, signature: r.signature ?? null })),
              dropFields: tombstoned,
              phoneHash: phoneIndexOf(change, dataKey),
              ...(tombstoned
                ? {
                    dropEntitlements: true,
                    // A deletion made here records its request closed; one merged from a peer closes ours, if any.
                    deletionCompleted: source === "local" ? { atMs: nowMs, record: true } : { atMs: after.tombstone!.wallMs, record: false },
                  }
                : {}),
            });
          } finally {
            dataKey?.fill(0);
          }
          if (!tombstoned && registerChanged(before, after, TEMPLATE_FIELD)) {
            indexed.push(change.identityId as IdentityId);
            if (before !== undefined && before.tombstone === undefined && before.fields[TEMPLATE_FIELD] !== undefined)
              replaced.push(change.identityId as IdentityId);
          }
          if (tombstoned && before !== undefined && before.tombstone === undefined) removed.push(change.identityId as IdentityId);
        }
        yield* storage.commit(writes);
        // Crypto-shredding after the tombstone commits: a crash between leaves a key the next open sweeps.
        const gone = changes.filter((c) => c.after.tombstone !== undefined).map((c) => c.identityId);
        if (gone.length > 0) yield* storage.destroyKeys(gone);
        const latestSeq = yield* storage.latestSeq();
        const change: RegistryChange = { source, seq: latestSeq, changed: changes.map((c) => c.identityId as IdentityId), indexed, replaced, removed };
        yield* PubSub.publish(published, change);
        return change;
      });

    const currentRecord = (identityId: string) =>
      Effect.map(storage.record(identityId), (stored) => (stored === undefined ? undefined : { stored, record: toRecord(stored) }));

    /** A register written here, with this region's signature. */
    const signed = (identityId: string, name: string, stamp: HlcTimestamp, value: Uint8Array | null): FieldRegister => ({
      stamp,
      value,
      signature: signatures.signField(identityId, { name, stamp, value }),
    });

    /** Sets registers of a live identity to new values stamped now (a local write, merged like any). */
    const writeRegisters = (identityId: string, values: ReadonlyMap<string, unknown | null>) =>
      Effect.gen(function* () {
        const current = yield* currentRecord(identityId);
        if (current === undefined || current.record.tombstone !== undefined) return false;
        // Refused here as every peer would refuse it: a write this region may not make never enters its feed.
        for (const [name, value] of values) {
          const refusal = fieldWriteRefusal({ name, cleared: value === null, writer: regionId, origin: current.stored.originRegion });
          if (refusal !== undefined) return yield* Effect.fail(new WriteNotAuthorised({ identityId, reason: refusal }));
        }
        const stamp = hlc.now();
        const sealed = yield* withKey(identityId, (dataKey) => {
          const fields: Record<string, FieldRegister> = {};
          for (const [name, value] of values) {
            if (value === null) {
              fields[name] = signed(identityId, name, stamp, null);
              continue;
            }
            const plain = encodeFieldValue(value);
            try {
              fields[name] = signed(identityId, name, stamp, vault.encryptField(identityId, name, dataKey, plain));
            } finally {
              plain.fill(0);
            }
          }
          return fields;
        });
        if (sealed === undefined) return false;
        const after = mergeIdentityRecords(current.record, { ...current.record, tombstone: undefined, fields: sealed });
        yield* commitRecords([{ identityId, origin: current.stored.originRegion, before: current.record, after, tombstoneProof: null }], "local", stamp.wallMs);
        return true;
      });

    const readFields = (identityId: string, wanted: (name: string) => boolean) =>
      Effect.gen(function* () {
        const stored = yield* storage.record(identityId);
        const out = new Map<string, unknown>();
        if (stored === undefined || stored.tombstone !== null) return out;
        const rows = stored.fields.filter((f) => f.value !== null && wanted(f.name));
        if (rows.length === 0) return out;
        yield* withKey(identityId, (dataKey) => {
          for (const row of rows) {
            const plain = vault.decryptField(identityId, row.name, dataKey, row.value!);
            try {
              out.set(row.name, decodeFieldValue(plain));
            } finally {
              plain.fill(0);
            }
          }
        });
        return out;
      });

    /** Brings the digests up to date by reading only what changed since the last call. */
    const refreshDigests = Effect.gen(function* () {
      const { latestSeq, live } = yield* storage.counts();
      const foldIn = (identityId: string) =>
        Effect.map(storage.record(identityId), (stored) => {
          if (stored === undefined || stored.tombstone !== null) digests.remove(identityId);
          else digests.put(identityId, recordDigest(toRecord(stored)), stored.changeSeq);
        });
      if (digestSeq >= 0 && latestSeq > digestSeq) {
        for (const { identityId } of yield* storage.changedIdsSince(digestSeq)) yield* foldIn(identityId);
      }
      if (digestSeq < 0 || live !== digests.size) {
        digests = new RegistryDigests();
        for (const { identityId } of yield* storage.liveChangeSeqs()) yield* foldIn(identityId);
      }
      digestSeq = latestSeq;
      return digests;
    });

    const validate = (r: ReplicatedRecord) => {
      if (r.dataKey !== undefined && r.dataKey.byteLength !== DATA_KEY_BYTES) {
        return Effect.fail(
          new ReplicatedRecordInvalid({ identityId: r.identityId, reason: `data key is ${r.dataKey.byteLength} bytes, not ${DATA_KEY_BYTES}` }),
        );
      }
      if (r.tombstone === undefined && r.dataKey === undefined)
        return Effect.fail(new ReplicatedRecordInvalid({ identityId: r.identityId, reason: "a live record arrived without its data key" }));
      if (new Set(r.fields.map((f) => f.name)).size !== r.fields.length)
        return Effect.fail(new ReplicatedRecordInvalid({ identityId: r.identityId, reason: "a field appears twice" }));
      return Effect.void;
    };

    /** Every stamp received moves this region's clock past it, so later local writes order after it. */
    const observe = (r: ReplicatedRecord) => {
      hlc.observe(r.created);
      if (r.tombstone !== undefined) hlc.observe(r.tombstone);
      for (const f of r.fields) hlc.observe(f.stamp);
    };

    /**
     * A peer's record holds only writes their writers signed and were allowed to make
     * (write-authority.ts); what this region already holds as it is was checked when it arrived.
     */
    const authorise = (r: ReplicatedRecord, current: { stored: StoredRecord; record: IdentityRecord } | undefined) => {
      const refuse = (reason: string) => Effect.fail(new ReplicatedRecordInvalid({ identityId: r.identityId, reason }));
      if (r.created.nodeId !== r.originRegion) return refuse(`created by ${r.created.nodeId} but says it was enrolled in ${r.originRegion}`);
      if (current !== undefined && current.stored.originRegion !== r.originRegion)
        return refuse(`says it was enrolled in ${r.originRegion}, not ${current.stored.originRegion}`);
      if (current !== undefined && current.stored.created !== encodeHlc(r.created)) return refuse("its creation stamp differs from the one known");
      const origin = r.originRegion;
      for (const f of r.fields) {
        const held = current?.record.fields[f.name];
        if (held?.signature != null && encodeHlc(held.stamp) === encodeHlc(f.stamp) && sameBytes(held.value, f.value) && sameBytes(held.signature, f.signature))
          continue;
        const refusal = fieldWriteRefusal({ name: f.name, cleared: f.value === null, writer: f.stamp.nodeId, origin });
        if (refusal !== undefined) return refuse(refusal);
        if (!signatures.fieldSigned(r.identityId, f, f.signature))
          return refuse(`${f.name} is not signed by ${f.stamp.nodeId}${signatures.knows(f.stamp.nodeId) ? "" : " (a region the federation does not know)"}`);
      }
      if (r.tombstone !== undefined) {
        const held = current?.record.tombstone;
        if (held !== undefined && sameStamp(held, r.tombstone) && proofOf(current!.stored) !== null) return Effect.void;
        const refusal = tombstoneRefusal(r.tombstoneReason);
        if (refusal !== undefined) return refuse(refusal);
        if (r.tombstoneSignature === undefined || !signatures.tombstoneSigned(r.identityId, r.tombstone, r.tombstoneReason!, r.tombstoneSignature))
          return refuse(`its tombstone is not signed by ${r.tombstone.nodeId}, the region it names as deleting it`);
      }
      return Effect.void;
    };

    /**
     * A register the merge kept from here that a peer sent signed, as it is (same stamp and value):
     * its signature is taken, so a register stored before signatures gets one.
     */
    const withSignaturesOf = (merged: IdentityRecord, received: IdentityRecord): IdentityRecord => {
      let fields: Record<string, FieldRegister> | undefined;
      for (const [name, register] of Object.entries(merged.fields)) {
        const theirs = received.fields[name];
        if (register.signature != null || theirs?.signature == null) continue;
        if (encodeHlc(theirs.stamp) !== encodeHlc(register.stamp) || !sameBytes(theirs.value, register.value)) continue;
        fields ??= { ...merged.fields };
        fields[name] = theirs;
      }
      return fields === undefined ? merged : { ...merged, fields };
    };

    /**
     * Rows stored before writes were signed (an upgraded data directory): this region signs, at
     * open, the registers and tombstones it stamped itself and was allowed to write; a tombstone's
     * reason was not kept, so it reads "unrecorded". Each signature added is a change the feed
     * carries, so peers take it too. Writes other regions stamped stay unsigned here, and are
     * never sent on: their writer signs and sends its own.
     */
    const signOwnUnsignedWrites = Effect.gen(function* () {
      const writes: IdentityWrite[] = [];
      const unsigned: StoredRecord[] = [];
      for (const identityId of yield* storage.unsignedIdentityIds()) {
        const stored = yield* storage.record(identityId);
        if (stored !== undefined) unsigned.push(stored);
      }
      // In feed order: the records keep their order in the feed, each moved to its end.
      for (const stored of unsigned.sort((x, y) => x.changeSeq - y.changeSeq)) {
        const { identityId } = stored;
        let tombstoneProof = proofOf(stored);
        if (stored.tombstone !== null && tombstoneProof === null) {
          const stamp = decodeHlc(stored.tombstone);
          if (stamp.nodeId === regionId) tombstoneProof = { reason: "unrecorded", signature: signatures.signTombstone(identityId, stamp, "unrecorded") };
        }
        const fields = stored.fields.flatMap((f) => {
          const stamp = decodeHlc(f.stamp);
          if (f.signature !== null || stamp.nodeId !== regionId) return [];
          if (fieldWriteRefusal({ name: f.name, cleared: f.value === null, writer: regionId, origin: stored.originRegion }) !== undefined) return [];
          return [{ ...f, signature: signatures.signField(identityId, { name: f.name, stamp, value: f.value }) }];
        });
        if (fields.length === 0 && tombstoneProof === proofOf(stored)) continue;
        writes.push({
          identityId,
          identity: {
            originRegion: stored.originRegion,
            created: stored.created,
            lastSeenMs: stored.lastSeenMs,
            tombstone: stored.tombstone,
            tombstoneReason: tombstoneProof?.reason ?? null,
            tombstoneSignature: tombstoneProof?.signature ?? null,
          },
          fields,
          dropFields: false,
        });
      }
      yield* storage.commit(writes);
    });
    yield* signOwnUnsignedWrites;

    const shape: IdentityRegistryShape = {
      regionId,
      subscribeChanges: PubSub.subscribe(published),

      enroll: (enrollments, nowMs) =>
        Effect.gen(function* () {
          for (const { identityId, profile } of enrollments) yield* refuseTakenPhone(identityId, profile?.phone);
          const keys = enrollments.map(({ identityId }) => ({ identityId, dataKey: vault.newDataKey() }));
          const changes: RecordChange[] = [];
          try {
            for (const [i, { identityId, template, profile }] of enrollments.entries()) {
              const stamp = hlc.now();
              const dataKey = keys[i]!.dataKey;
              const fields: Record<string, FieldRegister> = {};
              const seal = (name: string, plain: Uint8Array) => {
                try {
                  fields[name] = signed(identityId, name, stamp, vault.encryptField(identityId, name, dataKey, plain));
                } finally {
                  plain.fill(0);
                }
              };
              seal(TEMPLATE_FIELD, encodePalmTemplate(template));
              for (const [name, field] of Object.entries(PROFILE_FIELDS) as [keyof IdentityProfileFields, string][]) {
                if (profile?.[name] !== undefined) seal(field, encodeFieldValue(profile[name]));
              }
              changes.push({
                identityId,
                origin: regionId,
                before: undefined,
                after: { identityId, created: stamp, lastSeenMs: nowMs, tombstone: undefined, fields },
                tombstoneProof: null,
              });
            }
            const wrapped = keys.map(({ identityId, dataKey }) => ({ identityId, wrapped: vault.wrapDataKey(identityId, dataKey) }));
            // Keys first, committed on their own: a crash before the records leaves only orphan keys.
            yield* storage.storeWrappedKeys(wrapped, { onlyMissing: false });
          } finally {
            // The phone index needs the data key: commitRecords reads it back from storage.
            for (const { dataKey } of keys) dataKey.fill(0);
          }
          return yield* commitRecords(changes, "local", nowMs).pipe(
            Effect.tapError(() => storage.destroyKeys(keys.map((k) => k.identityId)).pipe(Effect.ignore)),
          );
        }),
      recordSeen: (identityId, nowMs) =>
        Effect.gen(function* () {
          // A rise is a change the feed carries (last-seen is a replicated max-register); no rise, no change.
          if (!(yield* storage.raiseLastSeen(identityId, nowMs))) return;
          const seq = yield* storage.latestSeq();
          yield* PubSub.publish(published, { source: "local", seq, changed: [identityId as IdentityId], indexed: [], replaced: [], removed: [] });
        }),
      isLive: (identityId) => Effect.map(storage.record(identityId), (r) => r !== undefined && r.tombstone === null),
      lifecycle: (identityId) =>
        Effect.map(storage.record(identityId), (r) =>
          r === undefined || r.tombstone !== null
            ? undefined
            : { enrolledAtMs: decodeHlc(r.created).wallMs, lastSeenMs: r.lastSeenMs, originRegion: r.originRegion },
        ),
      liveCount: () => Effect.map(storage.counts(), (c) => c.live),
      liveIdentityIds: () => Effect.map(storage.liveIdentityIds(), (ids) => ids as IdentityId[]),
      watermark: () => Effect.map(storage.counts(), (c) => c.watermark),
      liveTemplates: (afterRowId, limit) => Effect.map(storage.liveFieldAfter(TEMPLATE_FIELD, afterRowId, limit), (rows) => rows.map(openTemplate)),
      templatesOf: (identityIds) => Effect.map(storage.liveFieldOf(TEMPLATE_FIELD, identityIds), (rows) => rows.map(openTemplate)),
      sampleTemplates: (count, random = Math.random) =>
        Effect.gen(function* () {
          const { watermark, live } = yield* storage.counts();
          if (live <= count) return (yield* storage.liveFieldAfter(TEMPLATE_FIELD, 0, live)).map(openTemplate);
          const picked = new Set<number>();
          for (let attempts = 0; picked.size < count * 2 && attempts < count * 20; attempts++) picked.add(1 + Math.floor(random() * watermark));
          const rows = yield* storage.liveFieldAtRows(TEMPLATE_FIELD, [...picked]);
          return rows.slice(0, count).map(openTemplate);
        }),

      writeProfile: (identityId, fields) =>
        Effect.gen(function* () {
          yield* refuseTakenPhone(identityId, fields.phone);
          const values = new Map<string, unknown>();
          for (const [name, field] of Object.entries(PROFILE_FIELDS) as [keyof IdentityProfileFields, string][]) {
            if (fields[name] !== undefined) values.set(field, fields[name]);
          }
          if (!(yield* writeRegisters(identityId, values))) return yield* Effect.fail(new IdentityNotLive({ identityId }));
        }),
      clearProfileField: (identityId, name) => Effect.asVoid(writeRegisters(identityId, new Map([[PROFILE_FIELDS[name], null]]))),
      readProfile: (identityId) =>
        Effect.map(
          readFields(identityId, (name) => Object.values(PROFILE_FIELDS).includes(name)),
          (values) => {
            const out: Record<string, unknown> = {};
            for (const [name, field] of Object.entries(PROFILE_FIELDS)) if (values.has(field)) out[name] = values.get(field);
            return out as IdentityProfileFields;
          },
        ),
      writeRegister: (identityId, field, value) => writeRegisters(identityId, new Map([[field, value]])),
      readRegisters: (identityId, prefix) => readFields(identityId, (name) => name.startsWith(prefix)),
      findByPhone: (phone) => storage.findByPhoneHash(phoneHash(phone)),

      recordDeletionRequest: (identityId, nowMs) => storage.recordDeletionRequest(identityId, nowMs),
      openDeletionRequests: () => storage.openDeletionRequests(),
      tombstone: (identityId, nowMs, reason) =>
        Effect.gen(function* () {
          const current = yield* currentRecord(identityId);
          // Nothing to commit for an identity unknown or already tombstoned; change number 0 waits for nothing.
          const none: RegistryChange = { source: "local", seq: 0, changed: [], indexed: [], replaced: [], removed: [] };
          if (current === undefined) return none;
          if (current.record.tombstone !== undefined) {
            // Only a deletion request still open is closed.
            yield* storage.commit([
              {
                identityId,
                identity: {
                  originRegion: current.stored.originRegion,
                  created: current.stored.created,
                  lastSeenMs: current.stored.lastSeenMs,
                  tombstone: current.stored.tombstone,
                  tombstoneReason: current.stored.tombstoneReason,
                  tombstoneSignature: current.stored.tombstoneSignature,
                },
                fields: [],
                dropFields: true,
                deletionCompleted: { atMs: nowMs, record: true },
              },
            ]);
            return none;
          }
          const stamp = hlc.now();
          const after = tombstoneRecord(current.record, stamp);
          const tombstoneProof = { reason, signature: signatures.signTombstone(identityId, stamp, reason) };
          return yield* commitRecords([{ identityId, origin: current.stored.originRegion, before: current.record, after, tombstoneProof }], "local", nowMs);
        }),
      leastRecentlySeen: ({ own, atMostMs, limit }) => storage.leastRecentlySeen({ regionId, own, atMostMs, limit }),

      grantEntitlement: (entitlement) =>
        Effect.gen(function* () {
          const stored = yield* storage.record(entitlement.identityId);
          if (stored === undefined || stored.tombstone !== null) return yield* Effect.fail(new IdentityNotLive({ identityId: entitlement.identityId }));
          yield* storage.insertEntitlement(entitlement);
        }),
      entitlement: (entitlementId) => storage.entitlement(entitlementId),
      entitlementsOf: (identityId, venueId) => storage.entitlementsOf(identityId, venueId),
      revokeEntitlement: (entitlementId, nowMs) => storage.revokeEntitlement(entitlementId, nowMs),
      countEntry: (entitlementId) => storage.countEntry(entitlementId),

      latestSeq: () => storage.latestSeq(),
      changesSince: (afterSeq, limits = {}) =>
        Effect.gen(function* () {
          const maxRecords = limits.maxRecords ?? Number.POSITIVE_INFINITY;
          const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
          const latestSeq = yield* storage.latestSeq();
          const records: ChangedRecord[] = [];
          let bytes = 0;
          let upToSeq = afterSeq;
          for (;;) {
            const page = yield* storage.changedSince(upToSeq, FEED_PAGE);
            if (page.length === 0) break;
            for (const stored of page) {
              if (records.length >= maxRecords) return { records, upToSeq, more: true };
              const wrapped = stored.tombstone === null ? yield* storage.wrappedKey(stored.identityId) : undefined;
              const replicated = toReplicated(stored, wrapped === undefined ? undefined : vault.unwrapDataKey(stored.identityId, wrapped));
              if (replicated === undefined) {
                upToSeq = stored.changeSeq;
                continue;
              }
              const record: ChangedRecord = { ...replicated, changeSeq: stored.changeSeq };
              const size = RECORD_OVERHEAD_BYTES + record.fields.reduce((n, f) => n + FIELD_OVERHEAD_BYTES + (f.value?.byteLength ?? 0), 0);
              if (records.length > 0 && bytes + size > maxBytes) return { records, upToSeq, more: true };
              records.push(record);
              bytes += size;
              upToSeq = stored.changeSeq;
            }
          }
          // Covers numbers no record holds any more (pruned tombstones) when the batch is complete.
          return { records, upToSeq: Math.max(upToSeq, latestSeq), more: false };
        }),
      merge: (records) =>
        Effect.gen(function* () {
          // Every record is checked before any is merged or observed: one refused record refuses the batch.
          const claimedOrigins = new Map<string, string>();
          for (const r of records) {
            yield* validate(r);
            yield* authorise(r, yield* currentRecord(r.identityId));
            if ((claimedOrigins.get(r.identityId) ?? r.originRegion) !== r.originRegion)
              return yield* Effect.fail(new ReplicatedRecordInvalid({ identityId: r.identityId, reason: "a batch names two regions as its origin" }));
            claimedOrigins.set(r.identityId, r.originRegion);
          }
          const incoming = new Map<string, { record: IdentityRecord; origin: string; dataKey: Uint8Array | undefined }>();
          /** Verified tombstone proofs, by identity and stamp: the merge keeps a stamp, the proof goes with it. */
          const proofs = new Map<string, TombstoneProof>();
          for (const r of records) {
            observe(r);
            const record = toIdentityRecord(r);
            if (r.tombstone !== undefined && r.tombstoneReason !== undefined && r.tombstoneSignature !== undefined)
              proofs.set(`${r.identityId} ${encodeHlc(r.tombstone)}`, { reason: r.tombstoneReason, signature: r.tombstoneSignature });
            const seen = incoming.get(r.identityId);
            incoming.set(
              r.identityId,
              seen === undefined
                ? { record, origin: r.originRegion, dataKey: r.dataKey }
                : { record: mergeIdentityRecords(seen.record, record), origin: seen.origin, dataKey: seen.dataKey ?? r.dataKey },
            );
          }
          const changes: RecordChange[] = [];
          const adoptedIds: string[] = [];
          const newKeys: { identityId: string; wrapped: Uint8Array }[] = [];
          for (const [identityId, { record, origin, dataKey }] of incoming) {
            const current = yield* currentRecord(identityId);
            const merged = withSignaturesOf(mergeIdentityRecords(current?.record ?? record, record), record);
            const mergedDigest = recordDigest(merged);
            const cached = current === undefined ? undefined : digests.get(identityId);
            const currentDigest =
              current === undefined
                ? undefined
                : cached !== undefined && cached.seq === current.stored.changeSeq
                  ? cached.digest
                  : recordDigest(current.record);
            const tombstoneProof =
              merged.tombstone === undefined
                ? null
                : current?.record.tombstone !== undefined && sameStamp(current.record.tombstone, merged.tombstone) && proofOf(current.stored) !== null
                  ? proofOf(current.stored)
                  : (proofs.get(`${identityId} ${encodeHlc(merged.tombstone)}`) ?? null);
            const signaturesAdded =
              current !== undefined &&
              (Object.keys(merged.fields).some((name) => registerWritten(current.record, merged, name)) ||
                (merged.tombstone !== undefined && proofOf(current.stored) === null && tombstoneProof !== null));
            const changed = currentDigest === undefined || !currentDigest.equals(mergedDigest) || signaturesAdded;
            // Nothing here that the sender lacks: its record is the merge, so sending it back would only echo.
            if (current === undefined || mergedDigest.equals(recordDigest(record))) adoptedIds.push(identityId);
            const live = merged.tombstone === undefined;
            if (live && (yield* storage.wrappedKey(identityId)) === undefined) {
              if (dataKey === undefined)
                return yield* Effect.fail(new ReplicatedRecordInvalid({ identityId, reason: "a live record arrived without its data key" }));
              newKeys.push({ identityId, wrapped: vault.wrapDataKey(identityId, dataKey) });
            }
            if (changed) changes.push({ identityId, origin: current?.stored.originRegion ?? origin, before: current?.record, after: merged, tombstoneProof });
          }
          // Missing keys first (re-wrapped with this region's storage key), then the records, then the tombstones' keys destroyed.
          yield* storage.storeWrappedKeys(newKeys, { onlyMissing: true });
          const committed =
            changes.length === 0
              ? undefined
              : yield* commitRecords(changes, "peer", 0).pipe(Effect.tapError(() => storage.destroyKeys(newKeys.map((k) => k.identityId)).pipe(Effect.ignore)));
          const adopted = new Map<string, number>();
          for (const identityId of adoptedIds) {
            const stored = yield* storage.record(identityId);
            if (stored !== undefined) adopted.set(identityId, stored.changeSeq);
          }
          return { changed: changes.length, seq: committed?.seq ?? 0, adopted };
        }),
      digest: () => Effect.map(refreshDigests, (d) => d.whole()),
      bucketDigests: () => Effect.map(refreshDigests, (d) => d.buckets()),
      recordsInBuckets: (buckets, after, limit) =>
        Effect.gen(function* () {
          const wanted = new Set(buckets);
          const beyond = (r: RepairPosition) =>
            after === undefined || r.bucket > after.bucket || (r.bucket === after.bucket && r.identityId > after.identityId);
          const ids = (yield* storage.allIdentityIds())
            .map((identityId) => ({ identityId, bucket: bucketOf(identityId) }))
            .filter((r) => wanted.has(r.bucket) && beyond(r))
            .sort((x, y) => x.bucket - y.bucket || (x.identityId < y.identityId ? -1 : x.identityId > y.identityId ? 1 : 0));
          const out: (ReplicatedRecord & { readonly bucket: number })[] = [];
          for (const { identityId, bucket } of ids) {
            if (out.length >= limit) break;
            const stored = yield* storage.record(identityId);
            if (stored === undefined) continue;
            const wrapped = stored.tombstone === null ? yield* storage.wrappedKey(identityId) : undefined;
            const replicated = toReplicated(stored, wrapped === undefined ? undefined : vault.unwrapDataKey(identityId, wrapped));
            if (replicated !== undefined) out.push({ ...replicated, bucket });
          }
          return out;
        }),
      trackPeer: (peerRegion, publicKey) =>
        Effect.gen(function* () {
          // Who may link is the federation list's to say; this row only holds how far each feed got.
          if ((yield* storage.peer(peerRegion)) === undefined) yield* storage.addPeer(peerRegion, publicKey);
        }),
      peerStates: () => storage.peers(),
      recordAcked: (peerRegion, seq, nowMs) => storage.advancePeer(peerRegion, "acked", seq, nowMs),
      recordApplied: (peerRegion, seq, nowMs) => storage.advancePeer(peerRegion, "applied", seq, nowMs),
      appliedSeq: (peerRegion) => Effect.map(storage.peer(peerRegion), (peer) => peer?.appliedSeq ?? 0),
      tombstoneCount: () => Effect.map(storage.counts(), (c) => c.tombstones),
    };
    return shape;
  });

/** The registry over whichever IdentityStorage layer is provided. */
export const identityRegistryLayer = (settings: IdentityRegistrySettings) => Layer.effect(IdentityRegistry, makeIdentityRegistry(settings));
