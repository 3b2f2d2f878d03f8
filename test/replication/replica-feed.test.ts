// The registry's change feed: every change to an identity gives it a new change number from one
// region-wide counter, and changesSince reads records in that order, whole.
import { describe, expect, test } from "vitest";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { enroll, id, openReplicaRegion, run, type ReplicaRegion } from "./replica-region.ts";

const seqOf = (region: ReplicaRegion, identityId: string) =>
  (region.db.prepare("SELECT change_seq AS seq FROM identities WHERE identity_id = ?").get(identityId) as { seq: number }).seq;

describe("registry change feed", () => {
  test("an enrollment enters the feed with its template and data key", async () => {
    const a = await openReplicaRegion("a");
    enroll(a, "id_1", syntheticTemplate(1));
    const { records, upToSeq, more } = run(a.registry.changesSince(0));
    expect(records.map((r) => r.identityId)).toEqual(["id_1"]);
    expect(records[0]!.fields.map((f) => f.name)).toEqual(["palm_template"]);
    expect(records[0]!.dataKey?.byteLength).toBe(32);
    expect(records[0]!.originRegion).toBe("a");
    expect(upToSeq).toBe(run(a.registry.latestSeq()));
    expect(more).toBe(false);
  });

  test("every change moves the identity to the end of the feed", async () => {
    const a = await openReplicaRegion("a");
    enroll(a, "id_1", syntheticTemplate(1));
    enroll(a, "id_2", syntheticTemplate(2));
    const afterEnroll = run(a.registry.latestSeq());
    run(a.registry.writeProfile("id_1", { loyaltyCard: "LOY-1" }));
    expect(seqOf(a, "id_1")).toBeGreaterThan(afterEnroll);
    expect(run(a.registry.changesSince(afterEnroll)).records.map((r) => r.identityId)).toEqual(["id_1"]);
    const afterWrite = run(a.registry.latestSeq());
    run(a.registry.clearProfileField("id_1", "loyaltyCard"));
    expect(run(a.registry.changesSince(afterWrite)).records.map((r) => r.identityId)).toEqual(["id_1"]);
  });

  test("last-seen enters the feed only when it rises", async () => {
    const a = await openReplicaRegion("a");
    enroll(a, "id_1", syntheticTemplate(1), 5_000);
    const before = run(a.registry.latestSeq());
    run(a.registry.recordSeen(id("id_1"), 4_000));
    run(a.registry.recordSeen(id("id_1"), 5_000));
    expect(run(a.registry.latestSeq())).toBe(before);
    run(a.registry.recordSeen(id("id_1"), 6_000));
    expect(run(a.registry.latestSeq())).toBeGreaterThan(before);
    expect(run(a.registry.changesSince(before)).records[0]!.lastSeenMs).toBe(6_000);
  });

  test("a tombstoned record travels with no fields and no data key, and its key is gone", async () => {
    const a = await openReplicaRegion("a");
    enroll(a, "id_1", syntheticTemplate(1));
    run(a.registry.writeProfile("id_1", { phone: "+441234", loyaltyCard: "LOY-1" }));
    run(a.registry.tombstone("id_1", a.clock.now(), "requested"));
    const [record] = run(a.registry.changesSince(0)).records;
    expect(record!.tombstone).toBeDefined();
    expect(record!.fields).toEqual([]);
    expect(record!.dataKey).toBeUndefined();
    expect(a.db.prepare("SELECT COUNT(*) AS n FROM identity_fields WHERE identity_id = 'id_1'").get()).toEqual({ n: 0 });
    expect(a.db.prepare("SELECT COUNT(*) AS n FROM keys.data_keys").get()).toEqual({ n: 0 });
    expect(run(a.registry.findByPhone("+441234"))).toBeUndefined();
  });

  test("a batch is cut by record count, and the next call resumes where it stopped", async () => {
    const a = await openReplicaRegion("a");
    for (let i = 0; i < 5; i++) enroll(a, `id_${i}`, syntheticTemplate(i));
    const first = run(a.registry.changesSince(0, { maxRecords: 2 }));
    expect(first.records.map((r) => r.identityId)).toEqual(["id_0", "id_1"]);
    expect(first.more).toBe(true);
    const second = run(a.registry.changesSince(first.upToSeq, { maxRecords: 10 }));
    expect(second.records.map((r) => r.identityId)).toEqual(["id_2", "id_3", "id_4"]);
    expect(second.more).toBe(false);
  });

  test("a batch is cut by size, but always carries at least one record", async () => {
    const a = await openReplicaRegion("a");
    for (let i = 0; i < 3; i++) enroll(a, `id_${i}`, syntheticTemplate(i));
    const batch = run(a.registry.changesSince(0, { maxBytes: 100 }));
    expect(batch.records).toHaveLength(1);
    expect(batch.more).toBe(true);
  });

  test("live identities are indexed by last-seen for the expiry sweeper", async () => {
    const a = await openReplicaRegion("a");
    const plan = a.db.prepare("EXPLAIN QUERY PLAN SELECT MIN(last_seen_ms) FROM identities WHERE deleted_hlc IS NULL").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(" ")).toContain("identities_live_last_seen");
  });
});
