// Payments a node leaves "authorizing" (the processor failed, or the node died, while it held the
// authorization) are settled when a node starts on the same data: each device gets a window to
// retry its own key, then the node re-drives the rest by key against the real processor simulator
// and voids what was approved or records the decline. One authorization per key, never two.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startRegionNode } from "../../cloud/region-node.ts";
import { ABANDONED_AFTER_MS } from "../../cloud/sagas/payments.ts";
import { ManualClock } from "../../core/clock.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { hand, startStore, TEST_PANS, type Store } from "./store-harness.ts";

const PAYER = 851;
const DECLINED_PAYER = 852;
let store: Store;
let restarted: Awaited<ReturnType<typeof startRegionNode>> | undefined;
const clock = new ManualClock(Date.now());
const restartLogs: string[] = [];

const authorizationsOf = (amountMinor: number) => [...store.processor.authorizations.values()].filter((a) => a.amountMinor === amountMinor);
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
};

beforeAll(async () => {
  store = await startStore({ clock });
  await store.enroll(PAYER);
  await store.enroll(DECLINED_PAYER, { pan: TEST_PANS.declined });
}, 120_000);
afterAll(async () => {
  await restarted?.close();
  await store?.close();
});

/** Pays on a lane while the processor records the authorization and then fails every answer. */
const leaveInFlight = async (payer: number, idempotencyKey: string, amountMinor: number) => {
  const { agent } = await store.device(`lane-${idempotencyKey}`);
  const link = await agent.online();
  const sensor = new SimulatedPalmSensor({ seed: payer * 7 });
  sensor.present(hand(payer));
  const sealed = await captureSealedSignature(sensor, store.extractor, await link.captureSeal());
  // Two failures: the authorization itself, then the saga's reversal by the same key.
  store.processor.faults.failAfterRecording = 2;
  const answer = await link.authorize({ idempotencyKey, merchantId: "palmline-store", amount: { amountMinor, currency: "EUR" }, sealedSignature: sealed });
  expect(answer.outcome).toBe("failed");
  // The lane keeps the capture it sent: a retry by the same key goes with it.
  return { agent, sealed };
};

test("attempts the processor left hanging are settled after a restart: approved ones voided, declines recorded, nothing charged twice", async () => {
  await leaveInFlight(PAYER, "hanging-approved-1", 4_101);
  await leaveInFlight(DECLINED_PAYER, "hanging-declined-1", 4_102);
  const retried = await leaveInFlight(PAYER, "hanging-retried-1", 4_103);
  const inFlight = store.node.flows.ledger.inFlight().map((r) => r.idempotencyKey.split(":")[1]);
  expect(inFlight.sort()).toEqual(["hanging-approved-1", "hanging-declined-1", "hanging-retried-1"]);
  expect(authorizationsOf(4_101).map((a) => a.state)).toEqual(["authorized"]);

  const port = Number(new URL(store.node.url).port);
  await store.node.close();
  restarted = await startRegionNode({
    regionId: "flows",
    dataDir: store.dataDir,
    host: "127.0.0.1",
    port,
    shardCount: 2,
    clock,
    log: (line) => restartLogs.push(line),
    processorUrl: store.processor.url,
    sms: store.sms,
  });
  const ledger = restarted.flows.ledger;
  expect(restartLogs.join("\n")).toContain("3 attempt(s) left in flight");

  // Within the window, the lane's own retry re-drives its attempt to approved (and it is kept).
  const link = await retried.agent.online();
  const retry = await link.authorize({
    idempotencyKey: "hanging-retried-1",
    merchantId: "palmline-store",
    amount: { amountMinor: 4_103, currency: "EUR" },
    sealedSignature: retried.sealed,
  });
  expect(retry.outcome).toBe("approved");
  // Nothing else is touched before the window ends.
  expect(authorizationsOf(4_101).map((a) => a.state)).toEqual(["authorized"]);

  clock.advance(ABANDONED_AFTER_MS);
  await until(() => ledger.inFlight().length === 0);
  // One authorization per key at the processor, and the ledger agrees with it.
  const settled = (amountMinor: number) => {
    const [only, ...more] = authorizationsOf(amountMinor);
    expect(more).toHaveLength(0);
    return { processor: only!.state, ledger: ledger.byAuthorization(only!.authorizationId)?.state };
  };
  expect(settled(4_101)).toEqual({ processor: "voided", ledger: "voided" });
  expect(settled(4_102)).toEqual({ processor: "declined", ledger: "declined" });
  // The retried one is the lane's to capture; the sweep left it alone.
  expect(settled(4_103)).toEqual({ processor: "authorized", ledger: "approved" });
  expect(restartLogs.join("\n")).toContain("authorization voided");
}, 60_000);
