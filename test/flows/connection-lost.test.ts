// Losing the region in the middle of a flow: the flow says so on the display, forgets what it
// collected, and the device agent goes offline and keeps trying to reconnect.
import { afterAll, beforeAll, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { personalDataLeft } from "./personal-data.ts";
import { startStore, TEST_PANS, type Store } from "./store-harness.ts";

let store: Store;
beforeAll(async () => {
  store = await startStore();
}, 120_000);
afterAll(() => store?.close());

test("a kiosk that loses the region while submitting shows the failure and keeps nothing", async () => {
  const rig = await store.kiosk("kiosk-lost", { clock: new ManualClock(Date.now()) });
  const phone = "+4915112349999";
  const done = rig.kiosk.start("LOY-LOST");
  rig.cardReader.insert({ pan: TEST_PANS.visa, expiryMonth: 3, expiryYear: 2030 });
  rig.keypad.type(phone);
  await rig.reach("enteringCode");
  const code = store.sms.lastCodeFor(phone) ?? "";
  rig.keypad.type(code);
  await rig.reach("awaitingPalm");
  rig.sensor.present({ subjectSeed: 950, side: "right" });
  rig.kiosk.presentHand();
  await rig.reach("submitting");
  await store.node.close();
  const result = await done;
  expect(result.kind).toBe("failed");
  expect(result.text).toMatch(/Enrollment failed: region unavailable/);
  expect(rig.agent.actor.getSnapshot().value).toBe("offline");
  expect(personalDataLeft([rig.kiosk.actor, rig.agent.actor], rig.stateDir, [TEST_PANS.visa, phone, code, "LOY-LOST"])).toEqual([]);
  rig.stop();
});
