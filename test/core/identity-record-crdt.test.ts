import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { HlcTimestamp } from "../../core/hybrid-logical-clock.ts";
import { canonicalRecord, isLiveRecord, mergeIdentityRecords, tombstoneRecord, type IdentityRecord } from "../../core/identity-record-crdt.ts";

const stamp = fc.record({ wallMs: fc.integer({ min: 0, max: 50 }), counter: fc.integer({ min: 0, max: 3 }), nodeId: fc.constantFrom("eu", "us", "ap") });
const register = fc.record({ stamp, value: fc.option(fc.uint8Array({ minLength: 0, maxLength: 4 }), { nil: null }) });
const record: fc.Arbitrary<IdentityRecord> = fc.record({
  identityId: fc.constant("id_x"),
  created: stamp,
  lastSeenMs: fc.integer({ min: 0, max: 1_000 }),
  tombstone: fc.option(stamp, { nil: undefined }),
  fields: fc.dictionary(fc.constantFrom("palm_template", "card_token", "phone", "loyalty"), register, { maxKeys: 4 }),
});

const same = (a: IdentityRecord, b: IdentityRecord): void => {
  expect(canonicalRecord(a)).toEqual(canonicalRecord(b));
};
const at = (wallMs: number, nodeId = "eu", counter = 0): HlcTimestamp => ({ wallMs, counter, nodeId });
const base = (fields: IdentityRecord["fields"] = {}): IdentityRecord => ({ identityId: "id_x", created: at(1), lastSeenMs: 0, tombstone: undefined, fields });

describe("identity record CRDT: merge laws", () => {
  test("merge is commutative", () => {
    fc.assert(
      fc.property(record, record, (a, b) => {
        same(mergeIdentityRecords(a, b), mergeIdentityRecords(b, a));
      }),
      { numRuns: 2_000 },
    );
  });

  test("merge is associative", () => {
    fc.assert(
      fc.property(record, record, record, (a, b, c) => {
        same(mergeIdentityRecords(mergeIdentityRecords(a, b), c), mergeIdentityRecords(a, mergeIdentityRecords(b, c)));
      }),
      { numRuns: 2_000 },
    );
  });

  test("merge is idempotent: a record merged with itself is unchanged", () => {
    fc.assert(
      fc.property(record, (a) => {
        const once = mergeIdentityRecords(a, a);
        same(mergeIdentityRecords(once, once), once);
      }),
      { numRuns: 1_000 },
    );
  });

  test("receiving the same record twice changes nothing the second time", () => {
    fc.assert(
      fc.property(record, record, (a, b) => {
        const ab = mergeIdentityRecords(a, b);
        same(mergeIdentityRecords(ab, b), ab);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("identity record CRDT: semantics", () => {
  test("the later write to a field wins, in either order", () => {
    const older = base({ phone: { stamp: at(5), value: new Uint8Array([1]) } });
    const newer = base({ phone: { stamp: at(9, "us"), value: new Uint8Array([2]) } });
    expect(mergeIdentityRecords(older, newer).fields.phone?.value).toEqual(new Uint8Array([2]));
    expect(mergeIdentityRecords(newer, older).fields.phone?.value).toEqual(new Uint8Array([2]));
  });

  test("equal wall times are ordered by counter, then by node id", () => {
    const a = base({ phone: { stamp: at(5, "eu", 1), value: new Uint8Array([1]) } });
    const b = base({ phone: { stamp: at(5, "us", 0), value: new Uint8Array([2]) } });
    const c = base({ phone: { stamp: at(5, "us", 1), value: new Uint8Array([3]) } });
    expect(mergeIdentityRecords(a, b).fields.phone?.value).toEqual(new Uint8Array([1]));
    expect(mergeIdentityRecords(a, c).fields.phone?.value).toEqual(new Uint8Array([3]));
  });

  test("last-seen only moves forward", () => {
    expect(mergeIdentityRecords({ ...base(), lastSeenMs: 90 }, { ...base(), lastSeenMs: 30 }).lastSeenMs).toBe(90);
  });

  test("a deletion dominates an update made after it", () => {
    const deleted = tombstoneRecord(base({ phone: { stamp: at(2), value: new Uint8Array([1]) } }), at(10));
    const updatedLater = base({ phone: { stamp: at(20, "us"), value: new Uint8Array([9]) } });
    const merged = mergeIdentityRecords(updatedLater, deleted);
    expect(isLiveRecord(merged)).toBe(false);
    expect(merged.fields).toEqual({});
  });

  test("records of two identities are never merged", () => {
    expect(() => mergeIdentityRecords(base(), { ...base(), identityId: "id_y" })).toThrow(RangeError);
  });
});
