// What a replica keeps about the other regions: feed progress, never trust.
import { describe, expect, test } from "vitest";
import { failure, openReplicaRegion, run } from "./replica-region.ts";

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
