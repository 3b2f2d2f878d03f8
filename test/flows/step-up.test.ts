// The step-up end to end, over real sockets with the real pipeline: when the region's policy
// cannot decide from the palm alone, the checkout lane and the gate ask for the last four digits
// of the phone on their keypad and the region decides; the kiosk tells a newcomer in the grey
// zone apart by the phone it verified. Devices learn outcomes only.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { IdentificationPolicy } from "../../core/identification-policy.ts";
import { deployedScoreCalibration, type ScoreCalibration } from "../../core/score-calibration.ts";
import { CheckoutLane } from "../../edge/flows/checkout-lane.ts";
import { describeFlowState, whenState } from "../../edge/flows/flow-driver.ts";
import { GateLane } from "../../edge/flows/gate-lane.ts";
import { STEP_UP_DIGITS_WAIT_MS, STEP_UP_PROMPT } from "../../edge/flows/step-up.ts";
import { captureSealedSignature } from "../../edge/palm-capture.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedGateRelay } from "../../hardware/gate-relay.ts";
import { SimulatedKeypad } from "../../hardware/keypad.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import type { WireMessage } from "../../protocol/index.ts";
import { personalDataLeft } from "./personal-data.ts";
import { hand, startStore, TEST_PANS, type Store } from "./store-harness.ts";

// A venue where every enrolled palm lands in the grey zone: the deployed calibration, except that
// no score is taken as rarer than FMR 1e-7 for an impostor, so at a target FPIR of 1e-8 nothing
// clears the match threshold; the step-up floor (FMR 1e-8 * 10^4 / (N * 5 * 3), about 3e-6 with
// the two or three people enrolled here) is one genuine captures clear and strangers do not. The
// outcomes below come from the real pipeline and the real policy; only the venue is strict.
const RAREST_IMPOSTOR_FMR = 1e-7;
const noPalmIsCertain: ScoreCalibration = {
  falseMatchRate: (s) => Math.max(RAREST_IMPOSTOR_FMR, deployedScoreCalibration.falseMatchRate(s)),
  scoreForFalseMatchRate: (fmr) => (fmr < RAREST_IMPOSTOR_FMR ? Number.POSITIVE_INFINITY : deployedScoreCalibration.scoreForFalseMatchRate(fmr)),
};
const everyPalmSteppedUp = new IdentificationPolicy({ calibration: noPalmIsCertain, targetFpir: 1e-8 });

const ALMA = 41;
const ALMA_PHONE = "+4915100000441";
const BEN = 42;
const BEN_PHONE = "+4915100000442";
const STRANGER = 14_001;
const HOUR = 3_600_000;

let store: Store;
const ids = new Map<number, string>();

beforeAll(async () => {
  store = await startStore({ identificationPolicy: everyPalmSteppedUp });
  ids.set(ALMA, await store.enroll(ALMA, { pan: TEST_PANS.visa, phone: ALMA_PHONE }));
  ids.set(BEN, await store.enroll(BEN, { pan: TEST_PANS.mastercard, phone: BEN_PHONE }));
}, 120_000);
afterAll(() => store?.close());

const checkoutLane = async (name: string, merchantKind: "first-party" | "third-party" = "first-party") => {
  const sent: WireMessage[] = [];
  const merchantId = merchantKind === "first-party" ? "palmline-store" : "m_partner_cafe";
  const { agent, stateDir } = await store.device(name, { tap: (m) => sent.push(m), binding: { merchantId } });
  const sensor = new SimulatedPalmSensor({ seed: name.length * 37 });
  const display = new SimulatedDisplay();
  const keypad = new SimulatedKeypad();
  return {
    lane: new CheckoutLane({ agent, sensor, extractor: store.extractor, display, keypad, merchantId, merchantKind }),
    sensor,
    display,
    keypad,
    sent,
    stateDir,
  };
};

const stepUpPrompt = describeFlowState("enteringDigits", undefined);
const retryPrompt = describeFlowState("reenteringDigits", undefined);

describe("checkout", () => {
  test("a palm in the grey zone pays once the payer types the last four digits of their phone", async () => {
    const { lane, sensor, display, keypad, sent, stateDir } = await checkoutLane("lane-step-up-1");
    keypad.type("0441");
    lane.begin(1_050, "EUR");
    sensor.present(hand(ALMA));
    const result = await lane.presentHand();
    expect(result.kind).toBe("approved");
    expect(result.text).toContain("VISA ****4242");
    expect(keypad.prompts).toEqual([STEP_UP_PROMPT]);
    expect(display.history).toContain(stepUpPrompt);
    expect((await lane.settled()).kind).toBe("approved");
    // The continued authorization is a new attempt with the confirmed token; one charge in all.
    const authorizations = sent.filter((m) => m.type === "payment.authorize.request");
    expect(authorizations).toHaveLength(2);
    expect(authorizations[1]).toMatchObject({ stepUpToken: expect.any(String) });
    const charges = (await store.charges()).filter((c) =>
      authorizations.some((a) => a.type === "payment.authorize.request" && c.idempotencyKey.endsWith(a.idempotencyKey)),
    );
    expect(charges.map((c) => c.state)).toEqual(["captured"]);
    // Neither the digits nor the token outlive the answer.
    expect(personalDataLeft([lane.actor], stateDir, ["0441", ALMA_PHONE])).toEqual([]);
    expect(lane.actor.getSnapshot().context).toMatchObject({ stepUpToken: undefined, phoneDigits: undefined });
  });

  test("digits that match nobody are asked for again, and after the last attempt nothing is charged", async () => {
    const { lane, sensor, display, keypad, sent } = await checkoutLane("lane-step-up-2");
    for (const wrong of ["1111", "2222", "3333"]) keypad.type(wrong);
    lane.begin(700, "EUR");
    sensor.present(hand(BEN));
    const result = await lane.presentHand();
    expect(result).toMatchObject({ kind: "not-identified", text: "Palm not confirmed: pay another way" });
    expect(display.history).toContain(retryPrompt);
    expect(sent.filter((m) => m.type === "stepup.digits.request")).toHaveLength(3);
    const keys = sent.flatMap((m) => (m.type === "payment.authorize.request" ? [m.idempotencyKey] : []));
    expect((await store.charges()).filter((c) => keys.some((k) => c.idempotencyKey.endsWith(k)))).toEqual([]);
  });

  test("someone else's digits do not pay with their card", async () => {
    const { lane, sensor, keypad } = await checkoutLane("lane-step-up-3");
    for (const digits of ["0441", "0441", "0441"]) keypad.type(digits); // Alma's digits, Ben's palm
    lane.begin(900, "EUR");
    sensor.present(hand(BEN));
    expect((await lane.presentHand()).kind).toBe("not-identified");
  });

  test("a third-party checkout steps up the same way and gets its credential", async () => {
    const { lane, sensor, keypad } = await checkoutLane("lane-step-up-4", "third-party");
    keypad.type("0442");
    lane.begin(380, "EUR", new Uint8Array(16).fill(9));
    sensor.present(hand(BEN));
    expect((await lane.presentHand()).kind).toBe("credential-issued");
  });

  test("a stranger is not asked for digits at all", async () => {
    const { lane, sensor, keypad } = await checkoutLane("lane-step-up-5");
    lane.begin(500, "EUR");
    sensor.present(hand(STRANGER));
    expect((await lane.presentHand()).kind).toBe("not-identified");
    expect(keypad.prompts).toEqual([]);
  });
});

describe("gate", () => {
  const gate = async (name: string) => {
    const clock = new ManualClock(Date.now());
    const { agent } = await store.device(name, { clock, binding: { venueId: "arena" } });
    const sensor = new SimulatedPalmSensor({ seed: 600 + name.length });
    const keypad = new SimulatedKeypad();
    const display = new SimulatedDisplay();
    const relay = new SimulatedGateRelay();
    return {
      lane: new GateLane({ agent, sensor, extractor: store.extractor, relay, display, keypad, venueId: "arena", gateId: name }),
      sensor,
      keypad,
      display,
      relay,
      clock,
    };
  };

  beforeAll(async () => {
    const now = Date.now();
    const response = await fetch(`${store.node.httpUrl}/api/entitlements`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${store.node.operatorToken}` },
      body: JSON.stringify({
        phone: ALMA_PHONE,
        kind: "ticket",
        venueId: "arena",
        label: "Concert, floor",
        validFrom: now - HOUR,
        validUntil: now + HOUR,
        entries: null,
      }),
    });
    expect(response.status).toBe(201);
  });

  test("a palm in the grey zone opens the gate after the right digits", async () => {
    const g = await gate("arena-1");
    g.keypad.type("0441");
    g.sensor.present(hand(ALMA));
    const result = await g.lane.presentHand();
    expect(result).toMatchObject({ kind: "open", text: "Welcome: Concert, floor" });
    expect(g.display.history).toContain(stepUpPrompt);
  });

  test("a person who types nothing is turned away when the keypad's wait ends on the clock", async () => {
    const g = await gate("arena-3");
    g.sensor.present(hand(ALMA));
    const shown = g.lane.presentHand();
    await whenState(g.lane.actor, "enteringDigits");
    g.clock.advance(STEP_UP_DIGITS_WAIT_MS - 1);
    expect(g.lane.actor.getSnapshot().value).toBe("enteringDigits");
    g.clock.advance(1);
    expect(await shown).toMatchObject({ kind: "timed-out", text: "No digits entered: please see staff" });
    expect(g.relay.openings).toBe(0);
  });

  test("wrong digits keep the gate shut", async () => {
    const g = await gate("arena-2");
    for (const wrong of ["0000", "0001", "0002"]) g.keypad.type(wrong);
    g.sensor.present(hand(ALMA));
    expect(await g.lane.presentHand()).toMatchObject({ kind: "not-identified", text: "Palm not confirmed: please see staff" });
    expect(g.relay.openings).toBe(0);
  });
});

describe("kiosk", () => {
  const enrollAtKiosk = async (name: string, seed: number, phone: string) => {
    const rig = await store.kiosk(name, { clock: new ManualClock(Date.now()) });
    const result = await rig.enroll({ seed, pan: TEST_PANS.visa, phone });
    rig.stop();
    return { result, keypad: rig.keypad };
  };

  test("a palm in the grey zone with the enrolled person's phone is refused as already enrolled", async () => {
    const { result, keypad } = await enrollAtKiosk("kiosk-step-up-1", ALMA, ALMA_PHONE);
    expect(result.kind).toBe("already-enrolled");
    // The kiosk already holds the verified number: nobody is asked for digits.
    expect(keypad.prompts).not.toContain(STEP_UP_PROMPT);
  });

  test("a palm in the grey zone whose phone shows someone else enrolls", async () => {
    const { result } = await enrollAtKiosk("kiosk-step-up-2", BEN, "+4915100009999");
    expect(result.kind).toBe("enrolled");
  });
});

describe("the wire", () => {
  test("identify.result has the same fields whatever the outcome, and never a score", async () => {
    const { agent } = await store.device("scanner-shape");
    const link = await agent.online();
    const sensor = new SimulatedPalmSensor({ seed: 5 });
    const answer = async (seed: number) => {
      sensor.present(hand(seed));
      return link.identify(await captureSealedSignature(sensor, store.extractor, await link.captureSeal()));
    };
    const stepUp = await answer(ALMA);
    const none = await answer(STRANGER);
    expect(stepUp).toMatchObject({ outcome: "step-up-required", identityId: null, loyaltyCard: null, stepUpToken: expect.any(String) });
    expect(none).toMatchObject({ outcome: "no-match", identityId: null, stepUpToken: null, loyaltyCard: null });
    expect(Object.keys(stepUp).sort()).toEqual(Object.keys(none).sort());
    expect(Object.keys(none)).not.toContain("score");
    const confirmed = await link.submitStepUpDigits(stepUp.stepUpToken!, "0441");
    expect(confirmed).toEqual({ type: "stepup.digits.result", requestId: expect.any(String), outcome: "confirmed", attemptsLeft: 2 });
    // The request goes again with the confirmed token (and a sealed capture, as every identify has).
    sensor.present(hand(ALMA));
    const sealed = await captureSealedSignature(sensor, store.extractor, await link.captureSeal());
    const again = await link.identify(sealed, stepUp.stepUpToken!);
    expect(again).toMatchObject({ outcome: "match", identityId: ids.get(ALMA), stepUpToken: null });
    expect(Object.keys(again).sort()).toEqual(Object.keys(none).sort());
    expect((await link.identify(sealed, stepUp.stepUpToken!)).outcome).toBe("no-match");
  });
});
