// Loyalty lookups and deletion requests at a service point, end to end.
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { DATA_KEYS_FILE } from "../../cloud/storage/sqlite/data-key-file.ts";
import { ServicePoint } from "../../edge/flows/service-point.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedKeypad } from "../../hardware/keypad.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { ManualClock } from "../../core/clock.ts";
import { RESULT_SHOWN_MS } from "../../edge/flows/flow-result.ts";
import { hand, startStore, type Store } from "./store-harness.ts";

let store: Store;
beforeAll(async () => {
  store = await startStore();
}, 120_000);
afterAll(() => store?.close());

const servicePoint = async (name: string) => {
  const clock = new ManualClock(Date.now());
  const { agent } = await store.device(name, { clock });
  const sensor = new SimulatedPalmSensor({ seed: 600 + name.length });
  const keypad = new SimulatedKeypad();
  const point = new ServicePoint({ agent, sensor, extractor: store.extractor, keypad, display: new SimulatedDisplay() });
  return { point, sensor, keypad, clock, agent, stop: () => (point.stop(), agent.stop()) };
};

const readRow = (identityId: string) => {
  const db = new DatabaseSync(join(store.dataDir, "registry.sqlite"), { readOnly: true });
  try {
    // The wrapped data key lives in its own file (cloud/storage/sqlite/data-key-file.ts).
    db.prepare("ATTACH DATABASE ? AS keys").run(join(store.dataDir, DATA_KEYS_FILE));
    return db
      .prepare(
        "SELECT i.deleted_hlc AS deleted, k.wrapped AS key FROM identities i LEFT JOIN keys.data_keys k ON k.identity_id = i.identity_id WHERE i.identity_id = ?",
      )
      .get(identityId) as { deleted: string | null; key: Uint8Array | null };
  } finally {
    db.close();
  }
};

test("a loyalty lookup shows the card linked at enrollment", async () => {
  await store.enroll(405, { loyaltyCard: "LOY-405" });
  const s = await servicePoint("service-1");
  s.sensor.present(hand(405));
  expect(await s.point.lookupLoyalty()).toMatchObject({ kind: "identified", text: "Loyalty card LOY-405" });
  s.stop();
});

test("a confirmed deletion with no open payment deletes at once: tombstone, data key destroyed, palm no longer known", async () => {
  const identityId = await store.enroll(402);
  const s = await servicePoint("service-2");
  s.sensor.present(hand(402));
  s.keypad.type("YES");
  expect((await s.point.requestDeletion()).kind).toBe("deleted");
  const row = readRow(identityId);
  expect(row.deleted).not.toBeNull();
  expect(row.key).toBeNull();
  s.clock.advance(RESULT_SHOWN_MS);
  expect((await s.point.lookupLoyalty()).kind).toBe("not-identified");
  s.stop();
});

test("deletion without confirmation deletes nothing", async () => {
  const identityId = await store.enroll(403);
  const s = await servicePoint("service-3");
  s.sensor.present(hand(403));
  s.keypad.type("no");
  expect((await s.point.requestDeletion()).kind).toBe("cancelled");
  expect(readRow(identityId).deleted).toBeNull();
  s.stop();
});

test("deletion waits for an open payment, and completes when it settles", async () => {
  const identityId = await store.enroll(404);
  const lane = await store.device("lane-404");
  const link = await lane.agent.online();
  const sensor = new SimulatedPalmSensor({ seed: 4040 });
  sensor.present(hand(404));
  const auth = await link.authorize({
    idempotencyKey: "open-payment-404",
    merchantId: "palmline-store",
    amount: { amountMinor: 900, currency: "EUR" },
    sealedSignature: await captureSealedSignature(sensor, store.extractor, await link.captureSeal()),
  });
  expect(auth.outcome).toBe("approved");

  const s = await servicePoint("service-4");
  s.sensor.present(hand(404));
  s.keypad.type("YES");
  const answer = await s.point.requestDeletion();
  expect(answer).toMatchObject({ kind: "deletion-pending" });
  expect(readRow(identityId).deleted).toBeNull();

  expect((await link.settle({ authorizationId: auth.authorizationId!, action: "capture" })).outcome).toBe("captured");
  expect(readRow(identityId).deleted).not.toBeNull();
  s.stop();
});
