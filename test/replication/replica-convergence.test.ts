// Two regions' registries merged through changesSince/apply (the CRDT of
// core/identity-record-crdt.ts, at the database level) end with the same records.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import type { ReplicatedRecord } from "../../cloud/replication/replicated-record.ts";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { id, openReplicaRegion, recordOf, ship, syncBoth, wrappedKeyOf } from "./replica-region.ts";

describe("registry replicas", () => {
  test("converge to equal digests whatever the order, with every batch delivered twice", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    a.registry.enroll(id("id_a1"), syntheticTemplate(1), a.clock.now());
    a.profiles.write("id_a1", { loyaltyCard: "LOY-A1" });
    b.registry.enroll(id("id_b1"), syntheticTemplate(2), b.clock.now());
    b.registry.enroll(id("id_b2"), syntheticTemplate(3), b.clock.now());
    b.deletion.tombstone("id_b2", b.clock.now());
    const fromA = a.replica.changesSince(0).records;
    const fromB = b.replica.changesSince(0).records;
    b.replica.apply([...fromA].reverse());
    b.replica.apply(fromA);
    a.replica.apply(fromB);
    a.replica.apply(fromB);
    expect(a.replica.digest()).toBe(b.replica.digest());
    expect(a.replica.bucketDigests()).toEqual(b.replica.bucketDigests());
    expect(a.registry.liveIdentityIds().sort()).toEqual(["id_a1", "id_b1"]);
    expect(a.replica.tombstoneCount()).toBe(1);
  });

  test("a duplicate delivery changes nothing and gives out no change numbers", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    const records = a.replica.changesSince(0).records;
    expect(b.replica.apply(records)).toMatchObject({ changed: 1, live: ["id_1"], removed: [] });
    const seq = b.replica.latestSeq();
    expect(b.replica.apply(records)).toMatchObject({ changed: 0, live: [], removed: [] });
    expect(b.replica.latestSeq()).toBe(seq);
  });

  test("a record taken unchanged is reported as adopted, with its change number, so the feed need not echo it", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    const outcome = b.replica.apply(a.replica.changesSince(0).records);
    expect([...outcome.adopted]).toEqual([["id_1", b.replica.latestSeq()]]);
  });

  test("a merge that keeps something the sender lacks is not adopted: the sender must get it back", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    b.replica.apply(a.replica.changesSince(0).records);
    const before = a.replica.latestSeq();
    b.clock.advance(1_000);
    b.registry.recordSeen(id("id_1"), b.clock.now()); // b knows a later use than a
    a.profiles.write("id_1", { loyaltyCard: "LOY-1" }); // a writes a field b lacks
    const outcome = b.replica.apply(a.replica.changesSince(before).records);
    expect(outcome.changed).toBe(1);
    expect(outcome.adopted.size).toBe(0);
  });

  test("a tombstone dominates a concurrent field write and a later last-seen", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    ship(a, b);
    a.clock.advance(1_000);
    b.clock.advance(2_000);
    a.deletion.tombstone("id_1", a.clock.now());
    b.profiles.write("id_1", { loyaltyCard: "LOY-LATER" });
    b.registry.recordSeen(id("id_1"), b.clock.now());
    const outcome = ship(a, b);
    expect(outcome.removed).toEqual(["id_1"]);
    ship(b, a);
    for (const region of [a, b]) {
      expect(region.registry.isLive("id_1")).toBe(false);
      expect(region.profiles.read("id_1")).toEqual({});
      expect(wrappedKeyOf(region, "id_1")).toBeUndefined();
    }
    expect(a.replica.digest()).toBe(b.replica.digest());
    expect(recordOf(b.replica.changesSince(0).records, "id_1")!.lastSeenMs).toBe(b.clock.now());
  });

  test("a replicated template decrypts in the receiving region, its key wrapped with that region's storage key", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    const template = syntheticTemplate(7);
    a.registry.enroll(id("id_1"), template, a.clock.now());
    ship(a, b);
    const [received] = b.registry.templatesOf(["id_1"]);
    expect(received!.template).toEqual(template);
    expect(Buffer.from(wrappedKeyOf(b, "id_1")!).equals(Buffer.from(wrappedKeyOf(a, "id_1")!))).toBe(false);
  });

  test("the receiving region finds a replicated identity by phone, under its own phone hash", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    a.profiles.write("id_1", { phone: "+15550100" });
    ship(a, b);
    expect(b.profiles.findByPhone("+15550100")).toBe("id_1");
    expect(b.profiles.read("id_1").phone).toBe("+15550100");
    a.clock.advance(10);
    a.profiles.write("id_1", { phone: "+15550199" });
    ship(a, b);
    expect(b.profiles.findByPhone("+15550100")).toBeUndefined();
    expect(b.profiles.findByPhone("+15550199")).toBe("id_1");
  });

  test("received stamps move the receiver's clock past them", async () => {
    const a = await openReplicaRegion("a", { clock: new ManualClock(5_000_000) });
    const b = await openReplicaRegion("b", { clock: new ManualClock(1_000) });
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    ship(a, b);
    expect(b.hlc.now().wallMs).toBeGreaterThanOrEqual(5_000_000);
  });

  test("buckets that differ are found by their digests, and shipping them both ways repairs the difference", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    for (let i = 0; i < 6; i++) a.registry.enroll(id(`id_a${i}`), syntheticTemplate(i), a.clock.now());
    syncBoth(a, b);
    b.registry.enroll(id("id_b_only"), syntheticTemplate(99), b.clock.now());
    const ours = a.replica.bucketDigests();
    const theirs = b.replica.bucketDigests();
    expect(ours).toHaveLength(256);
    const differing = ours.filter((d, i) => !Buffer.from(d.digest).equals(Buffer.from(theirs[i]!.digest))).map((d) => d.bucket);
    expect(differing).toHaveLength(1);
    a.replica.apply([...b.replica.recordsInBuckets(differing)]);
    b.replica.apply([...a.replica.recordsInBuckets(differing)]);
    expect(a.replica.digest()).toBe(b.replica.digest());
    expect(a.registry.isLive("id_b_only")).toBe(true);
  });

  test("a live record without its data key is refused, and nothing is written", async () => {
    const a = await openReplicaRegion("a");
    const b = await openReplicaRegion("b");
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    const [record] = a.replica.changesSince(0).records;
    expect(() => b.replica.apply([{ ...record!, dataKey: undefined }])).toThrow(/without its data key/);
    expect(b.replica.latestSeq()).toBe(0);
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
    const take = (region: typeof x) => pool.push(...region.replica.changesSince(0).records);
    for (let i = 0; i < 4; i++) x.registry.enroll(id(`id_${i}`), syntheticTemplate(i), x.clock.now());
    take(x);
    ship(x, y);
    ship(x, z);
    y.clock.advance(100);
    z.clock.advance(200);
    y.profiles.write("id_0", { loyaltyCard: "Y" });
    z.profiles.write("id_0", { loyaltyCard: "Z" });
    y.registry.recordSeen(id("id_1"), y.clock.now());
    z.deletion.tombstone("id_1", z.clock.now());
    y.deletion.tombstone("id_2", y.clock.now());
    z.profiles.write("id_2", { phone: "+1555" });
    z.registry.enroll(id("id_z"), syntheticTemplate(9), z.clock.now());
    take(y);
    take(z);

    // The join of every record: what the three regions hold once they have synced.
    syncBoth(x, y);
    syncBoth(y, z);
    syncBoth(x, y);
    const expected = x.replica.digest();
    expect(z.replica.digest()).toBe(expected);
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
          for (let i = 0; i < all.length; i += batch) region.replica.apply(all.slice(i, i + batch));
        };
        deliver(p, forP);
        deliver(q, forQ);
        const same = p.replica.digest() === expected && q.replica.digest() === expected;
        p.db.close();
        q.db.close();
        return same;
      }),
      { numRuns: 30 },
    );
  });
});
