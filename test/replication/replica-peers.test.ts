// What a replica keeps about the other regions (pinned keys, feed progress), and tombstone
// pruning, which waits for every required peer to have acknowledged the tombstone.
import { describe, expect, test } from "vitest";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { id, openReplicaRegion, ship } from "./replica-region.ts";

const key = (byte: number) => new Uint8Array(32).fill(byte);

describe("replica peers", () => {
  test("a peer's key is pinned on first use; later keys must match it, across a reopen", async () => {
    const a = await openReplicaRegion("a");
    expect(a.replica.pinPeerKey("b", key(1))).toBe("pinned");
    expect(a.replica.pinPeerKey("b", key(1))).toBe("matches");
    a.db.close();
    const reopened = await openReplicaRegion("a", { dataDir: a.dataDir });
    expect(reopened.replica.pinPeerKey("b", key(2))).toBe("mismatch");
  });

  test("feed progress only moves forward, and is kept per peer", async () => {
    const a = await openReplicaRegion("a");
    a.replica.pinPeerKey("b", key(1));
    a.replica.recordAcked("b", 10, 1_000);
    a.replica.recordAcked("b", 4, 2_000);
    a.replica.recordApplied("b", 7, 3_000);
    expect(a.replica.appliedSeq("b")).toBe(7);
    expect(a.replica.appliedSeq("c")).toBe(0);
    expect(a.replica.peerStates()).toEqual([{ regionId: "b", publicKey: key(1), ackedSeq: 10, appliedSeq: 7, lastContactMs: 3_000 }]);
  });

  test("progress of a region whose key was never pinned is refused", async () => {
    const a = await openReplicaRegion("a");
    expect(() => a.replica.recordAcked("stranger", 1, 1_000)).toThrow(/no pinned key/);
  });
});

describe("tombstone pruning", () => {
  const withTombstone = async () => {
    const a = await openReplicaRegion("a");
    a.registry.enroll(id("id_1"), syntheticTemplate(1), a.clock.now());
    a.registry.enroll(id("id_2"), syntheticTemplate(2), a.clock.now());
    a.deletion.tombstone("id_2", a.clock.now());
    a.replica.pinPeerKey("b", key(1));
    a.replica.pinPeerKey("c", key(2));
    return a;
  };

  test("keeps a tombstone until every required peer has acknowledged it", async () => {
    const a = await withTombstone();
    a.replica.recordAcked("b", a.replica.latestSeq(), 1_000);
    expect(a.replica.pruneTombstones(["b", "c"])).toBe(0);
    expect(a.replica.tombstoneCount()).toBe(1);
    a.replica.recordAcked("c", a.replica.latestSeq() - 1, 1_000);
    expect(a.replica.pruneTombstones(["b", "c"])).toBe(0);
    a.replica.recordAcked("c", a.replica.latestSeq(), 1_000);
    expect(a.replica.pruneTombstones(["b", "c"])).toBe(1);
    expect(a.replica.tombstoneCount()).toBe(0);
    expect(a.registry.liveIdentityIds()).toEqual(["id_1"]);
  });

  test("a pruned tombstone's rowid is never given to a later identity", async () => {
    const a = await withTombstone();
    const top = a.registry.watermark();
    a.replica.recordAcked("b", a.replica.latestSeq(), 1_000);
    a.replica.recordAcked("c", a.replica.latestSeq(), 1_000);
    expect(a.replica.pruneTombstones(["b", "c"])).toBe(1);
    a.db.close();
    const reopened = await openReplicaRegion("a", { dataDir: a.dataDir });
    reopened.registry.enroll(id("id_3"), syntheticTemplate(3), reopened.clock.now());
    const [added] = reopened.registry.templatesOf(["id_3"]);
    expect(added!.rowid).toBe(top + 1);
  });

  test("the feed resumes past a pruned tombstone", async () => {
    const a = await withTombstone();
    const b = await openReplicaRegion("b");
    const { upToSeq } = ship(a, b);
    a.replica.recordAcked("b", upToSeq, 1_000);
    expect(a.replica.pruneTombstones(["b"])).toBe(1);
    expect(a.replica.changesSince(upToSeq)).toEqual({ records: [], upToSeq, more: false });
  });
});
