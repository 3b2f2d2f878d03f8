// A deletion requested while payments are open waits for them, then completes by itself when the
// last one settles, whichever path settles it: the lane's capture or void, an operator's void
// with no device connected, the payment saga's reversal, or the node's start after a crash. The
// person is told by SMS once it is done. Real processor simulator, real node, ManualClock.
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { DELETION_MESSAGES } from "../../cloud/lifecycle/deletion-acknowledgement.ts";
import { PROCESSOR_TIMEOUT_MS } from "../../cloud/sagas/payment-saga.ts";
import { ManualClock } from "../../core/clock.ts";
import type { RegionLink } from "../../edge/region-link.ts";
import { START_MS, STORE, startLifecycleRegion, type LifecycleRegion } from "./lifecycle-region.ts";

const PHONE = "+4915112340000";
const PALM = 21;

let region: LifecycleRegion;
let identityId: string;
beforeEach(async () => {
  region = await startLifecycleRegion();
  identityId = await region.enroll(PALM, PHONE);
}, 60_000);
afterEach(() => region?.close());

let keys = 0;
const authorize = async (lane: RegionLink) => {
  const auth = await lane.authorize({
    idempotencyKey: `checkout-${++keys}`,
    merchantId: STORE,
    amount: { amountMinor: 1_250, currency: "EUR" },
    sealedSignature: await region.seal(lane, PALM, 10 + keys),
  });
  expect(auth.outcome).toBe("approved");
  return auth.authorizationId!;
};

/** The person confirms deletion at a service point. */
const requestDeletion = async () => {
  const point = await region.link(`service-${++keys}`);
  const answer = await point.requestDeletion(await region.seal(point, PALM, 30 + keys));
  point.close();
  return answer;
};

const isDeleted = () => region.row(identityId)?.deleted != null;
const acknowledgements = () => region.messagesTo(PHONE).filter((text) => text === DELETION_MESSAGES.requested);
const deletionsDone = () => region.node.flows.deletions.idle();

test("with no payment open, a deletion happens at once and the person is told by SMS, without the number in the log", async () => {
  expect(await requestDeletion()).toMatchObject({ outcome: "deleted", identityId });
  await deletionsDone();
  expect(isDeleted()).toBe(true);
  expect(acknowledgements()).toHaveLength(1);
  expect(region.logs.join("\n")).not.toContain(PHONE.slice(1));
});

test("with a payment open, the deletion is recorded as pending and nothing is deleted yet", async () => {
  const lane = await region.link("lane");
  await authorize(lane);
  expect(await requestDeletion()).toMatchObject({ outcome: "pending", identityId, openTransactions: 1 });
  await deletionsDone();
  expect(isDeleted()).toBe(false);
  expect(acknowledgements()).toHaveLength(0);
});

test("a pending deletion completes when the lane captures the payment, and the person is told once", async () => {
  const lane = await region.link("lane");
  const authorizationId = await authorize(lane);
  await requestDeletion();
  expect((await lane.settle({ authorizationId, action: "capture" })).outcome).toBe("captured");
  await deletionsDone();
  expect(isDeleted()).toBe(true);
  expect(acknowledgements()).toHaveLength(1);
});

test("a pending deletion completes when the lane voids the payment", async () => {
  const lane = await region.link("lane");
  const authorizationId = await authorize(lane);
  await requestDeletion();
  expect((await lane.settle({ authorizationId, action: "void" })).outcome).toBe("voided");
  await deletionsDone();
  expect(isDeleted()).toBe(true);
});

test("a pending deletion waits for the last of several open payments", async () => {
  const lane = await region.link("lane");
  const first = await authorize(lane);
  const second = await authorize(lane);
  expect(await requestDeletion()).toMatchObject({ outcome: "pending", openTransactions: 2 });
  await lane.settle({ authorizationId: first, action: "capture" });
  await deletionsDone();
  expect(isDeleted()).toBe(false);
  await lane.settle({ authorizationId: second, action: "capture" });
  await deletionsDone();
  expect(isDeleted()).toBe(true);
});

test("a pending deletion completes when the operator voids the payment through the API, with no device connected", async () => {
  const lane = await region.link("lane");
  const authorizationId = await authorize(lane);
  await requestDeletion();
  lane.close();
  const voided = await region.api("POST", `/api/payments/${authorizationId}/void`);
  expect(voided.status).toBe(200);
  await deletionsDone();
  expect(isDeleted()).toBe(true);
  expect(region.processor.authorizations.get(authorizationId)?.state).toBe("voided");
  expect(acknowledgements()).toHaveLength(1);
});

test("a pending deletion completes when the payment saga reverses an authorization the processor did not answer in time", async () => {
  const lane = await region.link("lane");
  const stats = async () => ((await (await fetch(`${region.processor.url}/v1/stats`)).json()) as { received: number }).received;
  const before = await stats();
  region.processor.faults.latencyMs = 300;
  const answer = lane.authorize({
    idempotencyKey: "slow-checkout",
    merchantId: STORE,
    amount: { amountMinor: 990, currency: "EUR" },
    sealedSignature: await region.seal(lane, PALM, 50),
  });
  while ((await stats()) === before); // the attempt is at the processor, "authorizing" in the ledger
  expect(await requestDeletion()).toMatchObject({ outcome: "pending", openTransactions: 1 });
  region.processor.faults.latencyMs = 0;
  region.clock.advance(PROCESSOR_TIMEOUT_MS);
  expect(await answer).toMatchObject({ outcome: "failed", reason: "payment processor timed out" });
  await deletionsDone();
  expect(isDeleted()).toBe(true);
});

test("a deletion whose last payment was captured just before a crash completes when the node starts again", async () => {
  const lane = await region.link("lane");
  const authorizationId = await authorize(lane);
  await requestDeletion();
  await region.node.close();
  // The capture committed to the ledger, then the process died before the deletion could run.
  const db = new DatabaseSync(join(region.dataDir, "registry.sqlite"));
  db.prepare("UPDATE payments SET state = 'captured' WHERE authorization_id = ?").run(authorizationId);
  db.close();
  const restarted = await startLifecycleRegion({ clock: new ManualClock(START_MS + 60_000), dataDir: region.dataDir, processor: region.processor });
  try {
    await restarted.node.flows.deletions.idle();
    expect(restarted.row(identityId)?.deleted).not.toBeNull();
    expect(restarted.messagesTo(PHONE)).toEqual([DELETION_MESSAGES.requested]);
  } finally {
    await restarted.close();
  }
});
