// Gates end to end: entitlements granted through the node's HTTP API, a palm at the turnstile,
// the region's gate saga, the relay and the passage report.
import { afterAll, beforeAll, expect, test } from "vitest";
import { GateLane } from "../../edge/flows/gate-lane.ts";
import { RESULT_SHOWN_MS } from "../../edge/flows/flow-result.ts";
import { ManualClock } from "../../core/clock.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedGateRelay } from "../../hardware/gate-relay.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import { hand, startStore, type Store } from "./store-harness.ts";

let store: Store;
const FAN = 301;
const LATE_FAN = 302;
const WORKER = 303;
const ids = new Map<number, string>();
const HOUR = 3_600_000;

beforeAll(async () => {
  store = await startStore();
  for (const seed of [FAN, LATE_FAN, WORKER]) ids.set(seed, await store.enroll(seed));
}, 120_000);
afterAll(() => store?.close());

const grant = async (body: Record<string, unknown>) => {
  const response = await fetch(`${store.node.httpUrl}/api/entitlements`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${store.node.operatorToken}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const gate = async (name: string, venueId: string) => {
  const clock = new ManualClock(Date.now());
  const { agent } = await store.device(name, { clock, binding: { venueId } });
  const sensor = new SimulatedPalmSensor({ seed: 500 + name.length });
  const relay = new SimulatedGateRelay();
  const display = new SimulatedDisplay();
  const lane = new GateLane({ agent, sensor, extractor: store.extractor, relay, display, venueId, gateId: name });
  return { lane, sensor, relay, clock, stop: () => (lane.stop(), agent.stop()) };
};

test("a single-entry ticket opens the gate once, and is spent only by the passage", async () => {
  const now = Date.now();
  expect(
    (
      await grant({
        identityId: ids.get(FAN),
        kind: "ticket",
        venueId: "stadium",
        label: "Cup final, block C",
        validFrom: now - HOUR,
        validUntil: now + HOUR,
        entries: 1,
      })
    ).status,
  ).toBe(201);
  const g = await gate("turnstile-1", "stadium");
  g.sensor.present(hand(FAN));
  const first = await g.lane.presentHand();
  expect(first).toMatchObject({ kind: "open", text: "Welcome: Cup final, block C" });
  expect(g.relay.openings).toBe(1);
  g.clock.advance(RESULT_SHOWN_MS);
  const second = await g.lane.presentHand();
  expect(second).toMatchObject({ kind: "denied", text: "Entry denied: ticket already used" });
  expect(g.relay.openings).toBe(1);
  g.stop();
});

test("an expired ticket is refused with the reason", async () => {
  const now = Date.now();
  await grant({
    identityId: ids.get(LATE_FAN),
    kind: "ticket",
    venueId: "arena",
    label: "Yesterday's concert",
    validFrom: now - 48 * HOUR,
    validUntil: now - 24 * HOUR,
    entries: null,
  });
  const g = await gate("arena-gate", "arena");
  g.sensor.present(hand(LATE_FAN));
  expect(await g.lane.presentHand()).toMatchObject({ kind: "denied", text: "Entry denied: ticket expired" });
  expect(g.relay.openings).toBe(0);
  g.stop();
});

test("a workplace badge opens inside its weekly schedule and not outside it", async () => {
  const now = Date.now();
  const today = new Date(now).getUTCDay();
  const allDay = [{ day: today, fromMinute: 0, toMinute: 1440 }];
  await grant({
    identityId: ids.get(WORKER),
    kind: "badge",
    venueId: "office-berlin",
    label: "Staff",
    validFrom: now - HOUR,
    validUntil: now + 365 * 24 * HOUR,
    schedule: allDay,
  });
  await grant({
    identityId: ids.get(WORKER),
    kind: "badge",
    venueId: "office-paris",
    label: "Visitor",
    validFrom: now - HOUR,
    validUntil: now + HOUR,
    schedule: [{ day: (today + 3) % 7, fromMinute: 0, toMinute: 1440 }],
  });
  const berlin = await gate("berlin-door", "office-berlin");
  berlin.sensor.present(hand(WORKER));
  expect(await berlin.lane.presentHand()).toMatchObject({ kind: "open", text: "Welcome: Staff" });
  berlin.stop();
  const paris = await gate("paris-door", "office-paris");
  paris.sensor.present(hand(WORKER));
  expect(await paris.lane.presentHand()).toMatchObject({ kind: "denied", text: "Entry denied: outside the badge's schedule" });
  paris.stop();
});

test("an unknown palm does not open the gate", async () => {
  const g = await gate("turnstile-2", "stadium");
  g.sensor.present(hand(39_999));
  expect((await g.lane.presentHand()).kind).toBe("not-identified");
  expect(g.relay.openings).toBe(0);
  g.stop();
});

test("the entitlement API refuses a badge without a schedule and an unknown identity", async () => {
  expect((await grant({ identityId: ids.get(WORKER), kind: "badge", venueId: "x", validUntil: Date.now() + HOUR })).status).toBe(422);
  expect((await grant({ identityId: "id_nobody", kind: "ticket", venueId: "x", validUntil: Date.now() + HOUR })).status).toBe(404);
});
