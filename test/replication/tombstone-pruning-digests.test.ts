// Each region prunes an acknowledged tombstone at its own periodic chore, so for a while one
// region holds a tombstone the other has already dropped. The registries are the same then (the
// identity is gone in both), and their digests must say so: the demo's two regions once reported
// different digests for a whole anti-entropy period after west deleted someone between its chore
// and east's. Two real replicas (SQLite, libsodium) on one manual clock; every feed batch, ack,
// prune and anti-entropy exchange happens in the order written here, as the links would run it.
import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { differingBuckets } from "../../cloud/identity/record-digest.ts";
import { syntheticTemplate } from "../cloud/fixtures.ts";
import { enroll, id, openReplicaRegion, recordsInBuckets, run, type ReplicaRegion } from "./replica-region.ts";

const clock = new ManualClock(1_700_000_000_000);

/** West and east, each with the other's key pinned: each one's pruning waits for the other's ack. */
const westAndEast = async () => {
  const west = await openReplicaRegion("west", { clock });
  const east = await openReplicaRegion("east", { clock });
  run(west.registry.trackPeer("east", new Uint8Array(32).fill(1)));
  run(east.registry.trackPeer("west", new Uint8Array(32).fill(2)));
  return { west, east };
};

/** One feed batch from `from`, applied by `to` and acknowledged, as a link does it. */
const feed = (from: ReplicaRegion, to: ReplicaRegion) => {
  const batch = run(from.registry.changesSince(run(to.registry.appliedSeq(from.regionId))));
  run(to.registry.merge(batch.records));
  run(to.registry.recordApplied(from.regionId, batch.upToSeq, clock.now()));
  run(from.registry.recordAcked(to.regionId, batch.upToSeq, clock.now()));
};

/** A region's periodic chore prunes the tombstones its one peer has acknowledged. */
const chore = (region: ReplicaRegion, peer: ReplicaRegion) => run(region.registry.pruneTombstones([peer.regionId]));

/**
 * One anti-entropy round asked by `asker`, in the link's order: the responder compares the
 * asker's bucket digests with its own and sends the records of the differing buckets; the asker
 * applies them and sends its own records of those buckets back. Answers the differing buckets.
 */
const antiEntropyRound = (asker: ReplicaRegion, responder: ReplicaRegion) => {
  const bucketsOf = (r: ReplicaRegion) => new Map(run(r.registry.bucketDigests()).map((b) => [b.bucket, b]));
  const differing = differingBuckets(bucketsOf(asker), bucketsOf(responder));
  run(asker.registry.merge(recordsInBuckets(responder, differing)));
  run(responder.registry.merge(recordsInBuckets(asker, differing)));
  return differing;
};

/** Ada enrolls in west and is deleted there; the tombstone reaches east and both feeds are acknowledged. */
const adaDeletedInWest = async () => {
  const { west, east } = await westAndEast();
  enroll(west, "id_ada", syntheticTemplate(501));
  enroll(west, "id_bo", syntheticTemplate(502));
  run(west.registry.writeProfile("id_ada", { phone: "+4915100000501", loyaltyCard: "LOY-ADA-501" }));
  feed(west, east);
  feed(east, west);
  clock.advance(5_000);
  run(west.registry.tombstone("id_ada", clock.now(), "requested"));
  feed(west, east);
  feed(east, west);
  expect(run(east.registry.isLive("id_ada"))).toBe(false);
  expect(run(west.registry.digest())).toBe(run(east.registry.digest()));
  return { west, east };
};

describe("a tombstone pruned in one region before the other", () => {
  test("leaves the two registries' digests equal", async () => {
    const { west, east } = await adaDeletedInWest();
    clock.advance(1_000);
    expect(chore(west, east)).toBe(1); // west's chore comes first; east's is still to come
    expect(run(east.registry.tombstoneCount())).toBe(1);
    expect(run(west.registry.digest())).toBe(run(east.registry.digest()));
    expect(run(west.registry.bucketDigests())).toEqual(run(east.registry.bucketDigests()));
  });

  test("gives anti-entropy nothing to repair, so the tombstone is not sent back to the region that pruned it", async () => {
    const { west, east } = await adaDeletedInWest();
    clock.advance(1_000);
    chore(west, east);
    expect(antiEntropyRound(west, east)).toEqual([]);
    clock.advance(400);
    expect(chore(east, west)).toBe(1); // east's chore, a moment later
    for (const region of [west, east]) expect(run(region.registry.tombstoneCount())).toBe(0);
    expect(run(west.registry.digest())).toBe(run(east.registry.digest()));
  });

  test("whichever region prunes first, the digests agree at every step", async () => {
    const { west, east } = await adaDeletedInWest();
    expect(chore(east, west)).toBe(1);
    expect(run(west.registry.digest())).toBe(run(east.registry.digest()));
    antiEntropyRound(east, west);
    antiEntropyRound(west, east);
    expect(run(west.registry.digest())).toBe(run(east.registry.digest()));
    chore(west, east);
    expect(run(west.registry.digest())).toBe(run(east.registry.digest()));
    expect(run(east.registry.tombstoneCount())).toBe(0);
  });
});

describe("with tombstones outside the digests", () => {
  test("a region that missed a deletion still differs, and anti-entropy carries the tombstone to it", async () => {
    const { west, east } = await westAndEast();
    enroll(west, "id_cem", syntheticTemplate(503));
    feed(west, east);
    clock.advance(1_000);
    run(east.registry.tombstone("id_cem", clock.now(), "requested")); // east's feed to west is lost
    expect(run(west.registry.digest())).not.toBe(run(east.registry.digest()));
    expect(antiEntropyRound(west, east)).toHaveLength(1);
    expect(run(west.registry.isLive("id_cem"))).toBe(false);
    expect(run(west.registry.tombstoneCount())).toBe(1);
    expect(run(west.registry.digest())).toBe(run(east.registry.digest()));
  });

  test("a deletion changes the digest, and so does every later change to a live record", async () => {
    const { west } = await westAndEast();
    enroll(west, "id_1", syntheticTemplate(1));
    enroll(west, "id_2", syntheticTemplate(2));
    const both = run(west.registry.digest());
    clock.advance(1_000);
    run(west.registry.recordSeen(id("id_1"), clock.now()));
    const seen = run(west.registry.digest());
    expect(seen).not.toBe(both);
    run(west.registry.tombstone("id_2", clock.now(), "requested"));
    const deleted = run(west.registry.digest());
    expect(deleted).not.toBe(seen);
    run(west.registry.pruneTombstones([]));
    expect(run(west.registry.digest())).toBe(deleted);
  });
});
