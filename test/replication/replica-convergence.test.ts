// Two regions' registries merged through changesSince/merge (the CRDT of
// core/identity-record-crdt.ts, at the database level) end with the same records.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { DELETION_REQUESTED_FIELD, openPaymentsField } from "../../cloud/identity/identity-fields.ts";
import type { ReplicatedRecord } from "../../cloud/identity/replicated-record.ts";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { enroll, failure, id, mergeAt, openReplicaRegion, recordOf, recordsInBuckets, run, ship, syncBoth, wrappedKeyOf } from "./replica-region.ts";

describe("registry replicas", () => {
  test("converge to equal digests whatever the order, with every batch delivered twice", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    enroll(a, "id_a1", syntheticTemplate(1));
    run(a.registry.writeProfile("id_a1", { loyaltyCard: "LOY-A1" }));
    enroll(b, "id_b1", syntheticTemplate(2));
    enroll(b, "id_b2", syntheticTemplate(3));
    run(b.registry.tombstone("id_b2", b.clock.now(), "requested"));
    const fromA = run(a.registry.changesSince(0)).records;
    const fromB = run(b.registry.changesSince(0)).records;
    run(b.registry.merge([...fromA].reverse()));
    run(b.registry.merge(fromA));
    run(a.registry.merge(fromB));
    run(a.registry.merge(fromB));
    expect(run(a.registry.digest())).toBe(run(b.registry.digest()));
    expect(run(a.registry.bucketDigests())).toEqual(run(b.registry.bucketDigests()));
    expect(run(a.registry.liveIdentityIds()).sort()).toEqual(["id_a1", "id_b1"]);
    expect(run(a.registry.tombstoneCount())).toBe(1);
  });

  test("a duplicate delivery changes nothing and gives out no change numbers", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    enroll(a, "id_1", syntheticTemplate(1));
    const records = run(a.registry.changesSince(0)).records;
    expect(mergeAt(b, records)).toMatchObject({ changed: 1, indexed: ["id_1"], removed: [] });
    const seq = run(b.registry.latestSeq());
    expect(mergeAt(b, records)).toMatchObject({ changed: 0, indexed: [], removed: [] });
    expect(run(b.registry.latestSeq())).toBe(seq);
  });

  test("a record taken unchanged is reported as adopted, with its change number, so the feed need not echo it", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    enroll(a, "id_1", syntheticTemplate(1));
    const outcome = run(b.registry.merge(run(a.registry.changesSince(0)).records));
    expect([...outcome.adopted]).toEqual([["id_1", run(b.registry.latestSeq())]]);
  });

  test("a merge that keeps something the sender lacks is not adopted: the sender must get it back", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    enroll(a, "id_1", syntheticTemplate(1));
    run(b.registry.merge(run(a.registry.changesSince(0)).records));
    const before = run(a.registry.latestSeq());
    b.clock.advance(1_000);
    run(b.registry.recordSeen(id("id_1"), b.clock.now())); // b knows a later use than a
    run(a.registry.writeProfile("id_1", { loyaltyCard: "LOY-1" })); // a writes a field b lacks
    const outcome = run(b.registry.merge(run(a.registry.changesSince(before)).records));
    expect(outcome.changed).toBe(1);
    expect(outcome.adopted.size).toBe(0);
  });

  test("a tombstone dominates a concurrent field write and a later last-seen", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    enroll(a, "id_1", syntheticTemplate(1));
    ship(a, b);
    a.clock.advance(1_000);
    b.clock.advance(2_000);
    run(a.registry.tombstone("id_1", a.clock.now(), "requested"));
    run(b.registry.writeRegister("id_1", openPaymentsField("b"), 1));
    run(b.registry.recordSeen(id("id_1"), b.clock.now()));
    const outcome = ship(a, b);
    expect(outcome.removed).toEqual(["id_1"]);
    ship(b, a);
    for (const region of [a, b]) {
      expect(run(region.registry.isLive("id_1"))).toBe(false);
      expect(run(region.registry.readProfile("id_1"))).toEqual({});
      expect(wrappedKeyOf(region, "id_1")).toBeUndefined();
    }
    expect(run(a.registry.digest())).toBe(run(b.registry.digest()));
    expect(recordOf(run(b.registry.changesSince(0)).records, "id_1")!.lastSeenMs).toBe(b.clock.now());
  });

  test("a replicated template decrypts in the receiving region, its key wrapped with that region's storage key", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    const template = syntheticTemplate(7);
    enroll(a, "id_1", template);
    ship(a, b);
    const [received] = run(b.registry.templatesOf(["id_1"]));
    expect(received!.template).toEqual(template);
    expect(Buffer.from(wrappedKeyOf(b, "id_1")!).equals(Buffer.from(wrappedKeyOf(a, "id_1")!))).toBe(false);
  });

  test("the receiving region finds a replicated identity by phone, under its own phone hash", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    enroll(a, "id_1", syntheticTemplate(1));
    run(a.registry.writeProfile("id_1", { phone: "+15550100" }));
    ship(a, b);
    expect(run(b.registry.findByPhone("+15550100"))).toBe("id_1");
    expect(run(b.registry.readProfile("id_1")).phone).toBe("+15550100");
    a.clock.advance(10);
    run(a.registry.writeProfile("id_1", { phone: "+15550199" }));
    ship(a, b);
    expect(run(b.registry.findByPhone("+15550100"))).toBeUndefined();
    expect(run(b.registry.findByPhone("+15550199"))).toBe("id_1");
  });

  test("received stamps move the receiver's clock past them", async () => {
    const a = await openReplicaRegion("a", { clock: new ManualClock(5_000_000) });
    const b = await openReplicaRegion("b", { clock: new ManualClock(1_000) });
    enroll(a, "id_1", syntheticTemplate(1));
    ship(a, b);
    expect(b.hlc.now().wallMs).toBeGreaterThanOrEqual(5_000_000);
  });

  test("buckets that differ are found by their digests, and shipping them both ways repairs the difference", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    for (let i = 0; i < 6; i++) enroll(a, `id_a${i}`, syntheticTemplate(i));
    syncBoth(a, b);
    enroll(b, "id_b_only", syntheticTemplate(99));
    const ours = run(a.registry.bucketDigests());
    const theirs = run(b.registry.bucketDigests());
    expect(ours).toHaveLength(256);
    const differing = ours.filter((d, i) => !Buffer.from(d.digest).equals(Buffer.from(theirs[i]!.digest))).map((d) => d.bucket);
    expect(differing).toHaveLength(1);
    run(a.registry.merge(recordsInBuckets(b, differing)));
    run(b.registry.merge(recordsInBuckets(a, differing)));
    expect(run(a.registry.digest())).toBe(run(b.registry.digest()));
    expect(run(a.registry.isLive("id_b_only"))).toBe(true);
  });

  test("a live record without its data key is refused, and nothing is written", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    enroll(a, "id_1", syntheticTemplate(1));
    const [record] = run(a.registry.changesSince(0)).records;
    expect(failure(b.registry.merge([{ ...record!, dataKey: undefined }]))).toMatchObject({
      _tag: "ReplicatedRecordInvalid",
      reason: expect.stringMatching(/without its data key/),
    });
    expect(run(b.registry.latestSeq())).toBe(0);
  });
});

describe("registry replicas, property", () => {
  test("applying the same records to two replicas in any order and batching, some twice, gives equal digests", async () => {
    // A pool of records from three regions' real histories: enrollments, profile writes,
    // last-seen, deletions, each region seeing some of the others' records part-way.
    const x = await openReplicaRegion("x");
    const y = await openReplicaRegion("y");
    const z = await openReplicaRegion("z");
    const pool: ReplicatedRecord[] = [];
    const take = (region: typeof x) => pool.push(...run(region.registry.changesSince(0)).records);
    for (let i = 0; i < 4; i++) enroll(x, `id_${i}`, syntheticTemplate(i));
    take(x);
    ship(x, y);
    ship(x, z);
    y.clock.advance(100);
    z.clock.advance(200);
    // Concurrent writes of one register any region may write (a deletion request's announcement).
    run(y.registry.writeRegister("id_0", DELETION_REQUESTED_FIELD, { region: "y" }));
    run(z.registry.writeRegister("id_0", DELETION_REQUESTED_FIELD, { region: "z" }));
    run(y.registry.recordSeen(id("id_1"), y.clock.now()));
    run(z.registry.tombstone("id_1", z.clock.now(), "requested"));
    run(y.registry.tombstone("id_2", y.clock.now(), "requested"));
    run(z.registry.writeRegister("id_2", openPaymentsField("z"), 2));
    enroll(z, "id_z", syntheticTemplate(9));
    take(y);
    take(z);

    // The join of every record: what the three regions hold once they have synced.
    syncBoth(x, y);
    syncBoth(y, z);
    syncBoth(x, y);
    const expected = run(x.registry.digest());
    expect(run(z.registry.digest())).toBe(expected);
    const indices = [...pool.keys()];
    const delivery = fc.record({
      order: fc.shuffledSubarray(indices, { minLength: pool.length, maxLength: pool.length }),
      again: fc.array(fc.nat(pool.length - 1), { maxLength: pool.length }),
      batch: fc.integer({ min: 1, max: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(delivery, delivery, async (forP, forQ) => {
        const p = await openReplicaRegion("p");
        const q = await openReplicaRegion("q");
        const deliver = (region: typeof p, { order, again, batch }: typeof forP) => {
          // Durability is not under test here; fsyncs would make 30 runs slow.
          region.db.exec("PRAGMA synchronous = OFF; PRAGMA keys.synchronous = OFF");
          const all = [...order, ...again].map((i) => pool[i]!);
          for (let i = 0; i < all.length; i += batch) run(region.registry.merge(all.slice(i, i + batch)));
        };
        deliver(p, forP);
        deliver(q, forQ);
        const same = run(p.registry.digest()) === expected && run(q.registry.digest()) === expected;
        p.db.close();
        q.db.close();
        return same;
      }),
      { numRuns: 30 },
    );
  });
});
