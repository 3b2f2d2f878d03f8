// Enrollment at a kiosk end to end: card to the processor's vault, phone and one-time code,
// four palm captures through quality and liveness, the region's enrollment saga, the result.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { startStore, TEST_PANS, type Store } from "./store-harness.ts";
import { personalDataLeft } from "./personal-data.ts";
import { RESULT_SHOWN_MS } from "../../edge/flows/flow-result.ts";

let store: Store;
beforeAll(async () => {
  store = await startStore();
}, 120_000);
afterAll(() => store?.close());

test("a person enrolls with card, phone and palm, and the kiosk keeps nothing personal afterwards", async () => {
  const clock = new ManualClock(Date.now());
  const rig = await store.kiosk("kiosk-1", { clock });
  const person = { seed: 201, pan: TEST_PANS.mastercard, phone: "+4915112340001", loyaltyCard: "LOY-201" };
  const result = await rig.enroll(person);
  const code = store.sms.lastCodeFor(person.phone) ?? "";
  expect(result.kind).toBe("enrolled");
  expect(result.text).toContain("MASTERCARD ****4444");
  clock.advance(RESULT_SHOWN_MS);
  expect(rig.kiosk.actor.getSnapshot().value).toBe("idle");
  expect(personalDataLeft([rig.kiosk.actor, rig.agent.actor], rig.stateDir, [person.pan, person.phone, code, person.loyaltyCard, "4444"])).toEqual([]);
  rig.stop();
});

test("the same palm cannot enroll twice", async () => {
  const clock = new ManualClock(Date.now());
  const rig = await store.kiosk("kiosk-2", { clock });
  await rig.enroll({ seed: 202, pan: TEST_PANS.visa, phone: "+4915112340002" });
  clock.advance(RESULT_SHOWN_MS);
  const again = await rig.enroll({ seed: 202, pan: TEST_PANS.visa, phone: "+4915112340002" });
  expect(again.kind).toBe("already-enrolled");
  rig.stop();
});

test("a wrong one-time code is refused and nothing is enrolled", async () => {
  const rig = await store.kiosk("kiosk-3", { clock: new ManualClock(Date.now()) });
  const before = store.node.enrolledCount();
  const result = await rig.enroll({ seed: 203, pan: TEST_PANS.visa, phone: "+4915112340003" }, { wrongCode: true });
  expect(result.kind).toBe("rejected");
  expect(result.text).toContain("phone code");
  expect(store.node.enrolledCount()).toBe(before);
  rig.stop();
});

test("a printed photo of a palm fails the liveness gate at the kiosk", async () => {
  const rig = await store.kiosk("kiosk-4", { clock: new ManualClock(Date.now()) });
  const result = await rig.enroll({ seed: 204, pan: TEST_PANS.visa, phone: "+4915112340004" }, { attack: "printed-photo" });
  expect(result.kind).toBe("rejected");
  expect(result.text).toContain("live palm");
  rig.stop();
});

test("a hand withdrawn while capturing cancels the enrollment and forgets the card and phone", async () => {
  const rig = await store.kiosk("kiosk-5", { clock: new ManualClock(Date.now()) });
  const done = rig.kiosk.start();
  rig.cardReader.insert({ pan: TEST_PANS.visa, expiryMonth: 1, expiryYear: 2030 });
  rig.keypad.type("+4915112340005");
  await rig.reach("enteringCode");
  rig.keypad.type(store.sms.lastCodeFor("+4915112340005") ?? "");
  await rig.reach("awaitingPalm");
  rig.sensor.present({ subjectSeed: 205, side: "right" });
  rig.kiosk.presentHand();
  rig.kiosk.withdrawHand();
  const result = await done;
  expect(result.kind).toBe("cancelled");
  expect(personalDataLeft([rig.kiosk.actor], rig.stateDir, ["+4915112340005", TEST_PANS.visa])).toEqual([]);
  rig.stop();
});

test("no waiting state waits forever: a kiosk left without a card gives up", async () => {
  const clock = new ManualClock(Date.now());
  const rig = await store.kiosk("kiosk-6", { clock });
  const done = rig.kiosk.start();
  clock.advance(60_000);
  expect((await done).kind).toBe("timed-out");
  rig.stop();
});

test("the card numbers typed at kiosks never reach the region's database files or logs", () => {
  const files = readdirSync(store.dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  for (const f of files) {
    const bytes = readFileSync(join(f.parentPath, f.name));
    for (const pan of Object.values(TEST_PANS)) expect(bytes.includes(Buffer.from(pan)), `${f.name} holds ${pan}`).toBe(false);
  }
  for (const pan of Object.values(TEST_PANS)) expect(store.logs.join("\n")).not.toContain(pan);
});
