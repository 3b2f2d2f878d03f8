// The behaviour every identity storage layer owes the registry (cloud/storage/identity-storage.ts),
// as one suite each layer runs on itself (memory-identity-storage.test.ts,
// sqlite-identity-storage.test.ts; a PostgreSQL layer would add its own file): a layer is done
// when it passes this, unchanged. Change numbers are compared, never spelled out: a layer may
// spend more than one number on a change, as long as every change gets a larger one.
import { Effect } from "effect";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { encodeHlc } from "../../core/hybrid-logical-clock.ts";
import type { IdentityStorageShape, IdentityWrite, StoredEntitlement, StoredField, StoredRecord } from "../../cloud/storage/identity-storage.ts";

export interface StorageUnderTest {
  readonly storage: IdentityStorageShape;
  close(): Promise<void>;
}

const HERE = "eu-west";
const ELSEWHERE = "us-east";
const FIELD = "palm_template";

const stamp = (wallMs: number, counter = 0, nodeId = HERE) => encodeHlc({ wallMs, counter, nodeId });
const bytes = (...values: number[]) => new Uint8Array(values);
/** Byte arrays compared by content, whichever class a layer hands back. */
const plain = (value: Uint8Array | null | undefined) => (value == null ? value : [...value]);
const plainFields = (fields: readonly StoredField[]) => fields.map((f) => ({ name: f.name, stamp: f.stamp, value: plain(f.value) }));

interface Identity {
  readonly originRegion?: string;
  readonly created?: string;
  readonly lastSeenMs?: number;
  readonly tombstone?: string | null;
  readonly tombstoneReason?: string | null;
  readonly tombstoneSignature?: Uint8Array | null;
}

/** A write of one identity: a live row from this region unless told otherwise, no fields. */
const write = (identityId: string, identity: Identity = {}, rest: Partial<Omit<IdentityWrite, "identityId" | "identity">> = {}): IdentityWrite => ({
  identityId,
  identity: {
    originRegion: identity.originRegion ?? HERE,
    created: identity.created ?? stamp(1),
    lastSeenMs: identity.lastSeenMs ?? 1_000,
    tombstone: identity.tombstone ?? null,
    tombstoneReason: identity.tombstoneReason ?? null,
    tombstoneSignature: identity.tombstoneSignature ?? null,
  },
  fields: [],
  dropFields: false,
  ...rest,
});

const field = (name: string, value: Uint8Array | null, at = 2, signature: Uint8Array | null = null): StoredField => ({
  name,
  stamp: stamp(at),
  value,
  signature,
});

/** A tombstone as the registry writes it: fields, phone entry and entitlements dropped. */
const tombstoneOf = (identityId: string, identity: Identity = {}): IdentityWrite =>
  write(identityId, { ...identity, tombstone: stamp(9) }, { dropFields: true, phoneHash: null, dropEntitlements: true });

const entitlement = (entitlementId: string, identityId: string, more: Partial<StoredEntitlement> = {}): StoredEntitlement => ({
  entitlementId,
  identityId,
  kind: "ticket",
  venueId: "arena",
  label: "Saturday",
  validFromMs: 1_000,
  validUntilMs: 9_000,
  entriesAllowed: 1,
  entriesUsed: 0,
  schedule: null,
  revokedMs: null,
  ...more,
});

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect);
/** The failure an operation ends with (the test fails if it succeeds). */
const failure = <A, E>(effect: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(effect));

export const identityStorageConformance = (name: string, open: () => Promise<StorageUnderTest>): void => {
  describe(`identity storage conformance: ${name}`, () => {
    let under: StorageUnderTest;
    let s: IdentityStorageShape;
    beforeEach(async () => {
      under = await open();
      s = under.storage;
    });
    afterEach(async () => {
      await under.close();
    });

    const commit = (...writes: IdentityWrite[]) => run(s.commit(writes));
    const record = async (identityId: string): Promise<StoredRecord> => {
      const found = await run(s.record(identityId));
      if (found === undefined) throw new Error(`${identityId} is not stored`);
      return found;
    };
    /** A live identity with the field and a key: what the live-field reads return. */
    const enroll = async (identityId: string, value: Uint8Array, identity: Identity = {}) => {
      await run(s.storeWrappedKeys([{ identityId, wrapped: bytes(0xee, value[0] ?? 0) }], { onlyMissing: false }));
      await commit(write(identityId, identity, { fields: [field(FIELD, value)] }));
      return (await record(identityId)).rowId;
    };

    describe("records", () => {
      test("an empty storage counts nothing and has given out no row id or change number", async () => {
        expect(await run(s.counts())).toEqual({ live: 0, tombstones: 0, watermark: 0, latestSeq: 0 });
      });

      test("an identity never committed reads as undefined", async () => {
        expect(await run(s.record("nobody"))).toBeUndefined();
      });

      test("a committed identity reads back whole, its fields by name", async () => {
        await commit(
          write("a", { originRegion: ELSEWHERE, created: stamp(5), lastSeenMs: 7_000 }, { fields: [field("phone", bytes(2)), field("card", bytes(1))] }),
        );
        const a = await record("a");
        expect({ ...a, fields: plainFields(a.fields) }).toEqual({
          identityId: "a",
          rowId: a.rowId,
          originRegion: ELSEWHERE,
          created: stamp(5),
          lastSeenMs: 7_000,
          tombstone: null,
          tombstoneReason: null,
          tombstoneSignature: null,
          changeSeq: a.changeSeq,
          fields: [
            { name: "card", stamp: stamp(2), value: [1] },
            { name: "phone", stamp: stamp(2), value: [2] },
          ],
        });
        expect(a.rowId).toBeGreaterThan(0);
        expect(a.changeSeq).toBeGreaterThan(0);
      });

      test("a cleared field is kept as a register holding null", async () => {
        await commit(write("a", {}, { fields: [field("phone", null, 3)] }));
        expect(plainFields((await record("a")).fields)).toEqual([{ name: "phone", stamp: stamp(3), value: null }]);
      });

      test("committing an identity that exists updates its row in place", async () => {
        await commit(write("a", { lastSeenMs: 1_000 }));
        const before = await record("a");
        await commit(write("a", { originRegion: ELSEWHERE, created: stamp(4), lastSeenMs: 5_000 }));
        const after = await record("a");
        expect(after).toMatchObject({ rowId: before.rowId, originRegion: ELSEWHERE, created: stamp(4), lastSeenMs: 5_000 });
        expect((await run(s.counts())).live).toBe(1);
      });

      test("fields not in a write are left as they are, those in it are replaced", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1)), field("phone", bytes(2))] }));
        await commit(write("a", {}, { fields: [field("phone", bytes(3), 4)] }));
        expect(plainFields((await record("a")).fields)).toEqual([
          { name: "card", stamp: stamp(2), value: [1] },
          { name: "phone", stamp: stamp(4), value: [3] },
        ]);
      });

      test("writes of one identity within a commit apply in order", async () => {
        await commit(
          write("a", { lastSeenMs: 1_000 }, { fields: [field("card", bytes(1))] }),
          write("a", { lastSeenMs: 2_000 }, { fields: [field("card", bytes(2), 3)] }),
        );
        const a = await record("a");
        expect(a.lastSeenMs).toBe(2_000);
        expect(plainFields(a.fields)).toEqual([{ name: "card", stamp: stamp(3), value: [2] }]);
        expect((await run(s.counts())).live).toBe(1);
      });

      test("a commit keeps all of its writes or none", async () => {
        await commit(write("a", { lastSeenMs: 1_000 }));
        const before = await record("a");
        const { live, tombstones, latestSeq } = await run(s.counts());
        // A last-seen that is not a whole number of milliseconds: no layer can keep it.
        const error = await failure(s.commit([write("a", { lastSeenMs: 2_000 }), write("b"), write("c", { lastSeenMs: 1.5 })]));
        expect(error._tag).toBe("IdentityStorageFailure");
        expect(await record("a")).toEqual(before);
        expect(await run(s.record("b"))).toBeUndefined();
        expect(await run(s.counts())).toMatchObject({ live, tombstones, latestSeq });
      });

      test("stored bytes do not follow later changes to the caller's array", async () => {
        const value = bytes(1, 2, 3);
        await commit(write("a", {}, { fields: [field(FIELD, value)] }));
        value.fill(0);
        expect(plain((await record("a")).fields[0]!.value)).toEqual([1, 2, 3]);
      });

      test("a record read is the caller's own: changing it changes nothing stored", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1))] }));
        const read = await record("a");
        (read as { lastSeenMs: number }).lastSeenMs = 99;
        (read.fields as StoredField[]).pop();
        const again = await record("a");
        expect(again.lastSeenMs).toBe(1_000);
        expect(again.fields).toHaveLength(1);
      });
    });

    describe("signatures", () => {
      test("a field keeps the signature written with it; one written without reads null", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1), 2, bytes(7, 7)), field("phone", bytes(2))] }));
        const fields = (await record("a")).fields;
        expect(fields.map((f) => [f.name, plain(f.signature)])).toEqual([
          ["card", [7, 7]],
          ["phone", null],
        ]);
      });

      test("a signature added to a register as it is is a change", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1))] }));
        const before = (await record("a")).changeSeq;
        await commit(write("a", {}, { fields: [field("card", bytes(1), 2, bytes(9))] }));
        const after = await record("a");
        expect(after.changeSeq).toBeGreaterThan(before);
        expect(plain(after.fields[0]!.signature)).toEqual([9]);
      });

      test("a tombstone keeps its reason and signature, and one added later is a change", async () => {
        await commit(tombstoneOf("a"));
        const unsigned = await record("a");
        expect([unsigned.tombstoneReason, unsigned.tombstoneSignature]).toEqual([null, null]);
        await commit(tombstoneOf("a", { tombstoneReason: "expired", tombstoneSignature: bytes(4, 2) }));
        const signed = await record("a");
        expect([signed.tombstoneReason, plain(signed.tombstoneSignature)]).toEqual(["expired", [4, 2]]);
        expect(signed.changeSeq).toBeGreaterThan(unsigned.changeSeq);
      });

      test("unsignedIdentityIds lists identities with an unsigned field or tombstone, sorted, and no other", async () => {
        await commit(
          write("d", {}, { fields: [field("card", bytes(1), 2, bytes(1)), field("phone", bytes(2))] }),
          write("c", {}, { fields: [field("card", bytes(1), 2, bytes(1))] }),
          tombstoneOf("b"),
          tombstoneOf("a", { tombstoneReason: "requested", tombstoneSignature: bytes(3) }),
        );
        expect(await run(s.unsignedIdentityIds())).toEqual(["b", "d"]);
      });
    });

    describe("the change feed", () => {
      test("each change gets a larger number than any before, and latestSeq is the last given", async () => {
        await commit(write("a"));
        const first = (await record("a")).changeSeq;
        await commit(write("b"));
        const second = (await record("b")).changeSeq;
        await commit(write("a", { lastSeenMs: 2_000 }));
        const third = (await record("a")).changeSeq;
        expect(second).toBeGreaterThan(first);
        expect(third).toBeGreaterThan(second);
        expect((await run(s.counts())).latestSeq).toBe(third);
        expect(await run(s.latestSeq())).toBe(third);
      });

      test("a change to a field alone moves the identity in the feed", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1))] }));
        const before = (await record("a")).changeSeq;
        await commit(write("a", {}, { fields: [field("card", bytes(2), 3)] }));
        expect((await record("a")).changeSeq).toBeGreaterThan(before);
      });

      test("a new stamp on the same value is a change", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1), 2)] }));
        const before = (await record("a")).changeSeq;
        await commit(write("a", {}, { fields: [field("card", bytes(1), 3)] }));
        expect((await record("a")).changeSeq).toBeGreaterThan(before);
      });

      test("a write that changes nothing is not a change", async () => {
        const same = write("a", { lastSeenMs: 3_000 }, { fields: [field("card", bytes(1)), field("phone", null)] });
        await commit(same);
        const before = await run(s.counts());
        await commit({ ...same, fields: [field("card", bytes(1)), field("phone", null)] });
        expect(await run(s.counts())).toEqual(before);
        expect((await record("a")).changeSeq).toBe(before.latestSeq);
        expect(await run(s.changedSince(before.latestSeq, 10))).toEqual([]);
      });

      test("a tombstone written again as it is is not a change", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1))], phoneHash: "hash-1" }));
        await commit(tombstoneOf("a"));
        const before = await run(s.counts());
        await commit(tombstoneOf("a"));
        expect(await run(s.counts())).toEqual(before);
        expect((await record("a")).changeSeq).toBe(before.latestSeq);
      });

      test("changedSince lists the records changed after a point, in change order, each as it is now", async () => {
        await commit(write("a"));
        await commit(write("b"));
        const afterB = (await run(s.counts())).latestSeq;
        await commit(write("c"));
        await commit(write("a", { lastSeenMs: 2_000 }, { fields: [field("card", bytes(1))] }));
        expect((await run(s.changedSince(0, 10))).map((r) => r.identityId)).toEqual(["b", "c", "a"]);
        const since = await run(s.changedSince(afterB, 10));
        expect(since.map((r) => r.identityId)).toEqual(["c", "a"]);
        expect(since[1]).toEqual(await record("a"));
      });

      test("changedSince gives at most `limit` records, the earliest changes first", async () => {
        for (const id of ["a", "b", "c", "d"]) await commit(write(id));
        expect((await run(s.changedSince(0, 2))).map((r) => r.identityId)).toEqual(["a", "b"]);
      });

      test("changedIdsSince gives the ids and change numbers that changedSince gives, without fields", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1))] }), write("b"));
        const start = (await run(s.counts())).latestSeq;
        await commit(write("c"));
        await commit(write("a", { lastSeenMs: 5_000 }));
        const records = await run(s.changedSince(start, 10));
        const ids = await run(s.changedIdsSince(start));
        expect([...ids].sort((x, y) => x.changeSeq - y.changeSeq)).toEqual(records.map((r) => ({ identityId: r.identityId, changeSeq: r.changeSeq })));
        expect(ids.map((r) => r.identityId).sort()).toEqual(["a", "c"]);
      });

      test("liveChangeSeqs gives every live identity with its change number, tombstones left out", async () => {
        await commit(write("a"), write("b"), write("c"));
        await commit(tombstoneOf("b"));
        const seqs = await run(s.liveChangeSeqs());
        expect([...seqs].sort((x, y) => (x.identityId < y.identityId ? -1 : 1))).toEqual([
          { identityId: "a", changeSeq: (await record("a")).changeSeq },
          { identityId: "c", changeSeq: (await record("c")).changeSeq },
        ]);
      });
    });

    describe("last seen", () => {
      test("raiseLastSeen raises a lower last-seen and numbers the change", async () => {
        await commit(write("a", { lastSeenMs: 1_000 }));
        const before = (await record("a")).changeSeq;
        expect(await run(s.raiseLastSeen("a", 5_000))).toBe(true);
        const a = await record("a");
        expect(a.lastSeenMs).toBe(5_000);
        expect(a.changeSeq).toBeGreaterThan(before);
        expect((await run(s.counts())).latestSeq).toBe(a.changeSeq);
      });

      test("raiseLastSeen never lowers last-seen, and an equal or earlier time is no change", async () => {
        await commit(write("a", { lastSeenMs: 5_000 }));
        const before = await run(s.counts());
        expect(await run(s.raiseLastSeen("a", 4_000))).toBe(false);
        expect(await run(s.raiseLastSeen("a", 5_000))).toBe(false);
        expect((await record("a")).lastSeenMs).toBe(5_000);
        expect(await run(s.counts())).toEqual(before);
      });

      test("raiseLastSeen leaves tombstones and unknown identities alone", async () => {
        await commit(tombstoneOf("t", { lastSeenMs: 1_000 }));
        const before = await run(s.counts());
        expect(await run(s.raiseLastSeen("t", 5_000))).toBe(false);
        expect(await run(s.raiseLastSeen("nobody", 5_000))).toBe(false);
        expect((await record("t")).lastSeenMs).toBe(1_000);
        expect(await run(s.record("nobody"))).toBeUndefined();
        expect(await run(s.counts())).toEqual(before);
      });
    });

    describe("tombstones", () => {
      test("a tombstone written with dropFields leaves the record with no fields", async () => {
        await commit(write("a", {}, { fields: [field("card", bytes(1)), field(FIELD, bytes(2))] }));
        await commit(tombstoneOf("a"));
        const a = await record("a");
        expect(a.tombstone).toBe(stamp(9));
        expect(a.fields).toEqual([]);
      });

      test("a tombstone is a change", async () => {
        await commit(write("a"));
        const before = (await record("a")).changeSeq;
        await commit(tombstoneOf("a"));
        expect((await record("a")).changeSeq).toBeGreaterThan(before);
        expect((await run(s.changedSince(before, 10))).map((r) => r.identityId)).toEqual(["a"]);
      });

      test("counts tell live identities from tombstones", async () => {
        await commit(write("a"), write("b"), write("c"));
        await commit(tombstoneOf("b"));
        expect(await run(s.counts())).toMatchObject({ live: 2, tombstones: 1 });
      });

      test("liveIdentityIds lists the live identities; allIdentityIds every identity, sorted", async () => {
        await commit(write("c"), write("a"), write("b"));
        await commit(tombstoneOf("b"));
        expect((await run(s.liveIdentityIds())).sort()).toEqual(["a", "c"]);
        expect(await run(s.allIdentityIds())).toEqual(["a", "b", "c"]);
      });
    });

    describe("the phone index", () => {
      test("a phone hash written with an identity finds it", async () => {
        await commit(write("a", {}, { phoneHash: "hash-1" }));
        expect(await run(s.findByPhoneHash("hash-1"))).toBe("a");
        expect(await run(s.findByPhoneHash("hash-2"))).toBeUndefined();
      });

      test("a new phone hash replaces the identity's old one", async () => {
        await commit(write("a", {}, { phoneHash: "hash-1" }));
        await commit(write("a", {}, { phoneHash: "hash-2" }));
        expect(await run(s.findByPhoneHash("hash-1"))).toBeUndefined();
        expect(await run(s.findByPhoneHash("hash-2"))).toBe("a");
      });

      test("a null phone hash removes the identity's entry", async () => {
        await commit(write("a", {}, { phoneHash: "hash-1" }));
        await commit(write("a", {}, { phoneHash: null }));
        expect(await run(s.findByPhoneHash("hash-1"))).toBeUndefined();
      });

      test("a write without a phone hash leaves the entry as it is", async () => {
        await commit(write("a", {}, { phoneHash: "hash-1" }));
        await commit(write("a", { lastSeenMs: 2_000 }));
        expect(await run(s.findByPhoneHash("hash-1"))).toBe("a");
      });

      test("a phone hash written for another identity moves to it", async () => {
        await commit(write("a", {}, { phoneHash: "hash-1" }));
        await commit(write("b", {}, { phoneHash: "hash-1" }));
        expect(await run(s.findByPhoneHash("hash-1"))).toBe("b");
      });

      test("a tombstone that drops the phone hash leaves the number unknown", async () => {
        await commit(write("a", {}, { phoneHash: "hash-1" }));
        await commit(tombstoneOf("a"));
        expect(await run(s.findByPhoneHash("hash-1"))).toBeUndefined();
      });
    });

    describe("live fields", () => {
      test("liveFieldOf gives the field of live identities in the order asked, with row id and wrapped key", async () => {
        const a = await enroll("a", bytes(1));
        const b = await enroll("b", bytes(2));
        const found = await run(s.liveFieldOf(FIELD, ["b", "a"]));
        expect(found.map((f) => ({ ...f, value: plain(f.value), wrappedKey: plain(f.wrappedKey) }))).toEqual([
          { identityId: "b", rowId: b, value: [2], wrappedKey: [0xee, 2] },
          { identityId: "a", rowId: a, value: [1], wrappedKey: [0xee, 1] },
        ]);
      });

      test("liveFieldOf leaves out tombstones, unknown ids, and identities without the field, a value or a key", async () => {
        await enroll("live", bytes(1));
        await enroll("deleted", bytes(2));
        await commit(tombstoneOf("deleted"));
        await enroll("other-field", bytes(3));
        await commit(write("other-field", {}, { dropFields: true, fields: [field("card", bytes(3))] }));
        await enroll("cleared", bytes(4));
        await commit(write("cleared", {}, { fields: [field(FIELD, null, 5)] }));
        await commit(write("keyless", {}, { fields: [field(FIELD, bytes(5))] }));
        const found = await run(s.liveFieldOf(FIELD, ["deleted", "nobody", "other-field", "cleared", "keyless", "live"]));
        expect(found.map((f) => f.identityId)).toEqual(["live"]);
      });

      test("liveFieldAfter gives live identities past a row id, by row id, at most `limit`", async () => {
        const rows = [];
        for (const [i, id] of ["a", "b", "c", "d", "e"].entries()) rows.push(await enroll(id, bytes(i)));
        await commit(tombstoneOf("c"));
        expect((await run(s.liveFieldAfter(FIELD, rows[0]!, 10))).map((f) => f.identityId)).toEqual(["b", "d", "e"]);
        expect((await run(s.liveFieldAfter(FIELD, 0, 3))).map((f) => f.identityId)).toEqual(["a", "b", "d"]);
        expect(await run(s.liveFieldAfter(FIELD, rows[4]!, 10))).toEqual([]);
      });

      test("liveFieldAtRows gives the field at the rows asked, leaving out rows not live or never given", async () => {
        const a = await enroll("a", bytes(1));
        const b = await enroll("b", bytes(2));
        const c = await enroll("c", bytes(3));
        await commit(tombstoneOf("b"));
        const found = await run(s.liveFieldAtRows(FIELD, [c, b, a, c + 100]));
        expect(found.map((f) => [f.rowId, f.identityId]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual([
          [a, "a"],
          [c, "c"],
        ]);
      });
    });

    describe("expiry", () => {
      const seed = async () => {
        await commit(
          write("own-old", { lastSeenMs: 1_000 }),
          write("own-new", { lastSeenMs: 3_000 }),
          write("own-mid", { lastSeenMs: 2_000 }),
          write("own-recent", { lastSeenMs: 9_000 }),
          write("foreign-old", { originRegion: ELSEWHERE, lastSeenMs: 500 }),
        );
      };

      test("leastRecentlySeen lists this region's identities, oldest last-seen first, at most `limit`", async () => {
        await seed();
        expect(await run(s.leastRecentlySeen({ regionId: HERE, own: true, atMostMs: 5_000, limit: 2 }))).toEqual([
          { identityId: "own-old", lastSeenMs: 1_000 },
          { identityId: "own-mid", lastSeenMs: 2_000 },
        ]);
      });

      test("leastRecentlySeen leaves out identities seen after `atMostMs` (one seen at it is in)", async () => {
        await seed();
        const due = await run(s.leastRecentlySeen({ regionId: HERE, own: true, atMostMs: 3_000, limit: 10 }));
        expect(due.map((d) => d.identityId)).toEqual(["own-old", "own-mid", "own-new"]);
      });

      test("leastRecentlySeen with own=false lists only other regions' identities", async () => {
        await seed();
        expect(await run(s.leastRecentlySeen({ regionId: HERE, own: false, atMostMs: 10_000, limit: 10 }))).toEqual([
          { identityId: "foreign-old", lastSeenMs: 500 },
        ]);
      });

      test("leastRecentlySeen leaves out tombstones and identities with an open deletion request", async () => {
        await seed();
        await commit(tombstoneOf("own-old", { lastSeenMs: 1_000 }));
        await run(s.recordDeletionRequest("own-mid", 4_000));
        await run(s.recordDeletionRequest("own-new", 4_000));
        await commit(write("own-new", { lastSeenMs: 3_000 }, { deletionCompleted: { atMs: 4_500, record: false } }));
        const due = await run(s.leastRecentlySeen({ regionId: HERE, own: true, atMostMs: 10_000, limit: 10 }));
        expect(due.map((d) => d.identityId)).toEqual(["own-new", "own-recent"]);
      });
    });

    describe("deletion requests", () => {
      test("a recorded deletion request stays open until a commit completes it", async () => {
        await commit(write("a"));
        await run(s.recordDeletionRequest("a", 2_000));
        await run(s.recordDeletionRequest("a", 3_000));
        expect(await run(s.openDeletionRequests())).toEqual(["a"]);
        await commit(tombstoneOf("a"));
        expect(await run(s.openDeletionRequests())).toEqual(["a"]);
        await commit({ ...tombstoneOf("a"), deletionCompleted: { atMs: 4_000, record: false } });
        expect(await run(s.openDeletionRequests())).toEqual([]);
      });

      test("a completed request is not opened again by a later request", async () => {
        await commit(write("a"));
        await run(s.recordDeletionRequest("a", 2_000));
        await commit({ ...tombstoneOf("a"), deletionCompleted: { atMs: 3_000, record: false } });
        await run(s.recordDeletionRequest("a", 5_000));
        expect(await run(s.openDeletionRequests())).toEqual([]);
      });

      test("completing with `record` records a closed request where there was none; without it, nothing is recorded", async () => {
        await commit(write("recorded"), write("not-recorded"));
        await commit(
          { ...tombstoneOf("recorded"), deletionCompleted: { atMs: 3_000, record: true } },
          { ...tombstoneOf("not-recorded"), deletionCompleted: { atMs: 3_000, record: false } },
        );
        expect(await run(s.openDeletionRequests())).toEqual([]);
        // What was recorded shows in what a later request can do: only a request never recorded opens.
        await run(s.recordDeletionRequest("recorded", 4_000));
        await run(s.recordDeletionRequest("not-recorded", 4_000));
        expect(await run(s.openDeletionRequests())).toEqual(["not-recorded"]);
      });

      test("completing with `record` closes a request that was open", async () => {
        await commit(write("a"));
        await run(s.recordDeletionRequest("a", 2_000));
        await commit({ ...tombstoneOf("a"), deletionCompleted: { atMs: 3_000, record: true } });
        expect(await run(s.openDeletionRequests())).toEqual([]);
      });
    });

    describe("data keys", () => {
      test("stored wrapped keys read back; an identity without one reads undefined", async () => {
        await run(
          s.storeWrappedKeys(
            [
              { identityId: "a", wrapped: bytes(1) },
              { identityId: "b", wrapped: bytes(2) },
            ],
            { onlyMissing: false },
          ),
        );
        expect(plain(await run(s.wrappedKey("a")))).toEqual([1]);
        expect(plain(await run(s.wrappedKey("b")))).toEqual([2]);
        expect(await run(s.wrappedKey("c"))).toBeUndefined();
      });

      test("storing a key an identity already has fails the whole call and keeps what was there", async () => {
        await run(s.storeWrappedKeys([{ identityId: "a", wrapped: bytes(1) }], { onlyMissing: false }));
        const error = await failure(
          s.storeWrappedKeys(
            [
              { identityId: "b", wrapped: bytes(2) },
              { identityId: "a", wrapped: bytes(3) },
            ],
            { onlyMissing: false },
          ),
        );
        expect(error._tag).toBe("IdentityStorageFailure");
        expect(plain(await run(s.wrappedKey("a")))).toEqual([1]);
        expect(await run(s.wrappedKey("b"))).toBeUndefined();
      });

      test("onlyMissing keeps the keys there and stores the missing ones", async () => {
        await run(s.storeWrappedKeys([{ identityId: "a", wrapped: bytes(1) }], { onlyMissing: false }));
        await run(
          s.storeWrappedKeys(
            [
              { identityId: "a", wrapped: bytes(3) },
              { identityId: "b", wrapped: bytes(2) },
            ],
            { onlyMissing: true },
          ),
        );
        expect(plain(await run(s.wrappedKey("a")))).toEqual([1]);
        expect(plain(await run(s.wrappedKey("b")))).toEqual([2]);
      });

      test("a stored key does not follow later changes to the caller's array", async () => {
        const wrapped = bytes(1, 2);
        await run(s.storeWrappedKeys([{ identityId: "a", wrapped }], { onlyMissing: false }));
        wrapped.fill(0);
        expect(plain(await run(s.wrappedKey("a")))).toEqual([1, 2]);
      });

      test("destroyKeys removes the keys named and no other", async () => {
        await run(
          s.storeWrappedKeys(
            [
              { identityId: "a", wrapped: bytes(1) },
              { identityId: "b", wrapped: bytes(2) },
            ],
            { onlyMissing: false },
          ),
        );
        await run(s.destroyKeys(["a", "nobody"]));
        expect(await run(s.wrappedKey("a"))).toBeUndefined();
        expect(plain(await run(s.wrappedKey("b")))).toEqual([2]);
      });

      test("sweepOrphanKeys destroys the keys of tombstoned and absent identities and counts them", async () => {
        await run(
          s.storeWrappedKeys(
            [
              { identityId: "live", wrapped: bytes(1) },
              { identityId: "deleted", wrapped: bytes(2) },
              { identityId: "never-committed", wrapped: bytes(3) },
            ],
            { onlyMissing: false },
          ),
        );
        await commit(write("live"), write("deleted"));
        await commit(tombstoneOf("deleted"));
        expect(await run(s.sweepOrphanKeys())).toBe(2);
        expect(plain(await run(s.wrappedKey("live")))).toEqual([1]);
        expect(await run(s.wrappedKey("deleted"))).toBeUndefined();
        expect(await run(s.wrappedKey("never-committed"))).toBeUndefined();
        expect(await run(s.sweepOrphanKeys())).toBe(0);
      });
    });

    describe("entitlements", () => {
      const byId = (list: readonly StoredEntitlement[]) => [...list].sort((x, y) => (x.entitlementId < y.entitlementId ? -1 : 1));

      test("an inserted entitlement reads back whole", async () => {
        await commit(write("a"));
        const badge = entitlement("e1", "a", { kind: "badge", entriesAllowed: null, schedule: '[{"day":1,"fromMinute":0,"toMinute":60}]' });
        await run(s.insertEntitlement(badge));
        expect(await run(s.entitlement("e1"))).toEqual(badge);
        expect(await run(s.entitlement("e2"))).toBeUndefined();
      });

      test("inserting an entitlement id that exists fails and keeps the first", async () => {
        await commit(write("a"));
        await run(s.insertEntitlement(entitlement("e1", "a")));
        const error = await failure(s.insertEntitlement(entitlement("e1", "a", { label: "Sunday" })));
        expect(error._tag).toBe("IdentityStorageFailure");
        expect((await run(s.entitlement("e1")))?.label).toBe("Saturday");
      });

      test("entitlementsOf lists an identity's unrevoked entitlements, at one venue when asked", async () => {
        await commit(write("a"), write("b"));
        await run(s.insertEntitlement(entitlement("e1", "a")));
        await run(s.insertEntitlement(entitlement("e2", "a", { venueId: "office" })));
        await run(s.insertEntitlement(entitlement("e3", "a")));
        await run(s.insertEntitlement(entitlement("e4", "b")));
        await run(s.revokeEntitlement("e3", 2_000));
        expect(byId(await run(s.entitlementsOf("a"))).map((e) => e.entitlementId)).toEqual(["e1", "e2"]);
        expect((await run(s.entitlementsOf("a", "office"))).map((e) => e.entitlementId)).toEqual(["e2"]);
      });

      test("revokeEntitlement revokes once, and an unknown entitlement not at all", async () => {
        await commit(write("a"));
        await run(s.insertEntitlement(entitlement("e1", "a")));
        expect(await run(s.revokeEntitlement("e1", 2_000))).toBe(true);
        expect(await run(s.revokeEntitlement("e1", 3_000))).toBe(false);
        expect((await run(s.entitlement("e1")))?.revokedMs).toBe(2_000);
        expect(await run(s.revokeEntitlement("nothing", 3_000))).toBe(false);
      });

      test("countEntry counts entries while any is left", async () => {
        await commit(write("a"));
        await run(s.insertEntitlement(entitlement("e1", "a", { entriesAllowed: 2 })));
        expect(await run(s.countEntry("e1"))).toBe(true);
        expect(await run(s.countEntry("e1"))).toBe(true);
        expect(await run(s.countEntry("e1"))).toBe(false);
        expect((await run(s.entitlement("e1")))?.entriesUsed).toBe(2);
        expect(await run(s.countEntry("nothing"))).toBe(false);
      });

      test("countEntry on an unlimited entitlement always counts", async () => {
        await commit(write("a"));
        await run(s.insertEntitlement(entitlement("e1", "a", { entriesAllowed: null })));
        for (let i = 0; i < 3; i++) expect(await run(s.countEntry("e1"))).toBe(true);
        expect((await run(s.entitlement("e1")))?.entriesUsed).toBe(3);
      });

      test("a commit that drops entitlements removes that identity's and no other's", async () => {
        await commit(write("a"), write("b"));
        await run(s.insertEntitlement(entitlement("e1", "a")));
        await run(s.insertEntitlement(entitlement("e2", "b")));
        await commit(tombstoneOf("a"));
        expect(await run(s.entitlement("e1"))).toBeUndefined();
        expect((await run(s.entitlementsOf("b"))).map((e) => e.entitlementId)).toEqual(["e2"]);
      });
    });

    describe("peers", () => {
      test("an added peer has its key, no progress and no contact yet", async () => {
        await run(s.addPeer("us-east", bytes(7, 7)));
        const peer = await run(s.peer("us-east"));
        expect({ ...peer!, publicKey: plain(peer!.publicKey) }).toEqual({
          regionId: "us-east",
          publicKey: [7, 7],
          ackedSeq: 0,
          appliedSeq: 0,
          lastContactMs: null,
        });
        expect(await run(s.peer("ap-south"))).toBeUndefined();
      });

      test("peers are listed by region id", async () => {
        await run(s.addPeer("us-east", bytes(1)));
        await run(s.addPeer("ap-south", bytes(2)));
        expect((await run(s.peers())).map((p) => p.regionId)).toEqual(["ap-south", "us-east"]);
      });

      test("adding a region already added fails and keeps its first key", async () => {
        await run(s.addPeer("us-east", bytes(1)));
        const error = await failure(s.addPeer("us-east", bytes(2)));
        expect(error._tag).toBe("IdentityStorageFailure");
        expect(plain((await run(s.peer("us-east")))?.publicKey)).toEqual([1]);
      });

      test("advancePeer moves acked and applied progress apart and records the contact", async () => {
        await run(s.addPeer("us-east", bytes(1)));
        await run(s.advancePeer("us-east", "acked", 5, 1_000));
        await run(s.advancePeer("us-east", "applied", 7, 2_000));
        expect(await run(s.peer("us-east"))).toMatchObject({ ackedSeq: 5, appliedSeq: 7, lastContactMs: 2_000 });
      });

      test("advancePeer never moves progress back, though it records the contact", async () => {
        await run(s.addPeer("us-east", bytes(1)));
        await run(s.advancePeer("us-east", "acked", 5, 1_000));
        await run(s.advancePeer("us-east", "applied", 5, 1_000));
        await run(s.advancePeer("us-east", "acked", 3, 2_000));
        await run(s.advancePeer("us-east", "applied", 4, 3_000));
        expect(await run(s.peer("us-east"))).toMatchObject({ ackedSeq: 5, appliedSeq: 5, lastContactMs: 3_000 });
      });

      test("advancePeer of a region never added fails with StoredPeerUnknown and adds nothing", async () => {
        const error = await failure(s.advancePeer("ap-south", "acked", 5, 1_000));
        expect(error).toMatchObject({ _tag: "StoredPeerUnknown", regionId: "ap-south" });
        expect(await run(s.peers())).toEqual([]);
      });
    });
  });
};
