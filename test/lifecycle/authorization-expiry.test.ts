// An approved authorization nobody captures or voids does not hold a card, or a person's
// deletion, for ever: past its lifetime the region voids it at the processor, and the deletion
// waiting for it completes. Real node, real processor simulator, ManualClock: a week passes in
// one advance().
import { afterEach, beforeEach, expect, test } from "vitest";
import { AUTHORIZATION_LIFETIME_MS } from "../../cloud/lifecycle/authorization-expiry.ts";
import { DELETION_MESSAGES } from "../../cloud/lifecycle/deletion-acknowledgement.ts";
import { DEADLINE_RETRY_MS } from "../../cloud/lifecycle/deadline-sweeper.ts";
import { ManualClock } from "../../core/clock.ts";
import { START_MS, STORE, startLifecycleRegion, type LifecycleRegion } from "./lifecycle-region.ts";

const PHONE = "+4915112345555";
const PALM = 23;

let region: LifecycleRegion;
let identityId: string;
beforeEach(async () => {
  region = await startLifecycleRegion();
  identityId = await region.enroll(PALM, PHONE);
}, 60_000);
afterEach(() => region?.close());

/** A lane's approved authorization that the lane then never settles (it goes away). */
const leaveOpen = async () => {
  const lane = await region.link("lane");
  const auth = await lane.authorize({
    idempotencyKey: "checkout-left-open",
    merchantId: STORE,
    amount: { amountMinor: 1_250, currency: "EUR" },
    sealedSignature: await region.seal(lane, PALM, 10),
  });
  lane.close();
  expect(auth.outcome).toBe("approved");
  return auth.authorizationId!;
};

const requestDeletion = async () => {
  const point = await region.link("service-point");
  const answer = await point.requestDeletion(await region.seal(point, PALM, 30));
  point.close();
  return answer;
};

/** Lets the clock's deadlines run: the sweep they start, and any deletion its voids release. */
const afterAdvance = async (r: LifecycleRegion, ms: number) => {
  r.clock.advance(ms);
  await r.node.authorizationExpiry.settled();
  await r.node.flows.deletions.idle();
};

const isDeleted = (r: LifecycleRegion) => r.row(identityId)?.deleted != null;
const processorState = (authorizationId: string) => region.processor.authorizations.get(authorizationId)?.state;

test("an authorization left open past its lifetime is voided at the processor and the pending deletion completes", async () => {
  const authorizationId = await leaveOpen();
  expect(await requestDeletion()).toMatchObject({ outcome: "pending", openTransactions: 1 });
  await afterAdvance(region, AUTHORIZATION_LIFETIME_MS);
  expect(processorState(authorizationId)).toBe("voided");
  expect(region.node.flows.ledger.byAuthorization(authorizationId)?.state).toBe("voided");
  expect(isDeleted(region)).toBe(true);
  expect(region.messagesTo(PHONE).filter((text) => text === DELETION_MESSAGES.requested)).toHaveLength(1);
});

test("an authorization younger than its lifetime stays open and the deletion keeps waiting", async () => {
  const authorizationId = await leaveOpen();
  await requestDeletion();
  await afterAdvance(region, AUTHORIZATION_LIFETIME_MS - 1);
  expect(processorState(authorizationId)).toBe("authorized");
  expect(isDeleted(region)).toBe(false);
});

test("an authorization that fell due while the node was down is voided when the node starts again", async () => {
  const authorizationId = await leaveOpen();
  await requestDeletion();
  await region.node.close();
  const restarted = await startLifecycleRegion({
    clock: new ManualClock(START_MS + AUTHORIZATION_LIFETIME_MS),
    dataDir: region.dataDir,
    processor: region.processor,
  });
  try {
    await afterAdvance(restarted, 0);
    expect(processorState(authorizationId)).toBe("voided");
    expect(isDeleted(restarted)).toBe(true);
  } finally {
    await restarted.close();
  }
});

test("an expired authorization the processor cannot be reached for stays open and is voided on the retry", async () => {
  const authorizationId = await leaveOpen();
  await requestDeletion();
  region.processor.faults.failBefore = 1;
  await afterAdvance(region, AUTHORIZATION_LIFETIME_MS);
  expect(processorState(authorizationId)).toBe("authorized");
  expect(isDeleted(region)).toBe(false);
  await afterAdvance(region, DEADLINE_RETRY_MS);
  expect(processorState(authorizationId)).toBe("voided");
  expect(isDeleted(region)).toBe(true);
});

test("an expired authorization the processor no longer holds open is recorded expired and releases the deletion", async () => {
  const authorizationId = await leaveOpen();
  await requestDeletion();
  // Settled at the processor behind the region's back: the processor refuses to void it.
  await fetch(`${region.processor.url}/v1/authorizations/${authorizationId}/capture`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  await afterAdvance(region, AUTHORIZATION_LIFETIME_MS);
  expect(region.node.flows.ledger.byAuthorization(authorizationId)?.state).toBe("expired");
  expect(isDeleted(region)).toBe(true);
});
