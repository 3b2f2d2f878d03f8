// What a replica keeps about the other regions (feed progress, never trust), and tombstone
// pruning, which waits for every required peer to have acknowledged the tombstone.
import { describe, expect, test } from "vitest";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { enroll, failure, openReplicaRegion, run, ship } from "./replica-region.ts";

const key = (byte: number) => new Uint8Array(32).fill(byte);

describe("replica peers", () => {
  test("tracking a peer again keeps its progress, across a reopen", async () => {
    const a = await openReplicaRegion("a");
    run(a.registry.trackPeer("b", key(1)));
    run(a.registry.recordAcked("b", 3, 1_000));
    a.db.close();
    const reopened = await openReplicaRegion("a", { dataDir: a.dataDir });
    run(reopened.registry.trackPeer("b", key(1)));
    expect(run(reopened.registry.peerStates())).toMatchObject([{ regionId: "b", ackedSeq: 3 }]);
  });

  test("feed progress only moves forward, and is kept per peer", async () => {
    const a = await openReplicaRegion("a");
    run(a.registry.trackPeer("b", key(1)));
    run(a.registry.recordAcked("b", 10, 1_000));
    run(a.registry.recordAcked("b", 4, 2_000));
    run(a.registry.recordApplied("b", 7, 3_000));
    expect(run(a.registry.appliedSeq("b"))).toBe(7);
    expect(run(a.registry.appliedSeq("c"))).toBe(0);
    expect(run(a.registry.peerStates())).toEqual([{ regionId: "b", publicKey: key(1), ackedSeq: 10, appliedSeq: 7, lastContactMs: 3_000 }]);
  });

  test("progress of a region never tracked is refused", async () => {
    const a = await openReplicaRegion("a");
    expect(failure(a.registry.recordAcked("stranger", 1, 1_000))).toMatchObject({
      _tag: "StoredPeerUnknown",
      regionId: "stranger",
      message: expect.stringMatching(/not a tracked peer/),
    });
  });
});

describe("tombstone pruning", () => {
  const withTombstone = async () => {
    const a = await openReplicaRegion("a");
    enroll(a, "id_1", syntheticTemplate(1));
    enroll(a, "id_2", syntheticTemplate(2));
    run(a.registry.tombstone("id_2", a.clock.now(), "requested"));
    run(a.registry.trackPeer("b", key(1)));
    run(a.registry.trackPeer("c", key(2)));
    return a;
  };

  test("keeps a tombstone until every required peer has acknowledged it", async () => {
    const a = await withTombstone();
    run(a.registry.recordAcked("b", run(a.registry.latestSeq()), 1_000));
    expect(run(a.registry.pruneTombstones(["b", "c"]))).toBe(0);
    expect(run(a.registry.tombstoneCount())).toBe(1);
    run(a.registry.recordAcked("c", run(a.registry.latestSeq()) - 1, 1_000));
    expect(run(a.registry.pruneTombstones(["b", "c"]))).toBe(0);
    run(a.registry.recordAcked("c", run(a.registry.latestSeq()), 1_000));
    expect(run(a.registry.pruneTombstones(["b", "c"]))).toBe(1);
    expect(run(a.registry.tombstoneCount())).toBe(0);
    expect(run(a.registry.liveIdentityIds())).toEqual(["id_1"]);
  });

  test("a pruned tombstone's rowid is never given to a later identity", async () => {
    const a = await withTombstone();
    const top = run(a.registry.watermark());
    run(a.registry.recordAcked("b", run(a.registry.latestSeq()), 1_000));
    run(a.registry.recordAcked("c", run(a.registry.latestSeq()), 1_000));
    expect(run(a.registry.pruneTombstones(["b", "c"]))).toBe(1);
    a.db.close();
    const reopened = await openReplicaRegion("a", { dataDir: a.dataDir });
    enroll(reopened, "id_3", syntheticTemplate(3));
    const [added] = run(reopened.registry.templatesOf(["id_3"]));
    expect(added!.rowid).toBe(top + 1);
  });

  test("the feed resumes past a pruned tombstone", async () => {
    const a = await withTombstone();
    const b = await openReplicaRegion("b");
    const { upToSeq } = ship(a, b);
    run(a.registry.recordAcked("b", upToSeq, 1_000));
    expect(run(a.registry.pruneTombstones(["b"]))).toBe(1);
    expect(run(a.registry.changesSince(upToSeq))).toEqual({ records: [], upToSeq, more: false });
  });
});
