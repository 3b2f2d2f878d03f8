// The second half of `palmline demo`: the store, venue and service flows on the same region
// node. Two people enroll at a card kiosk (card to the processor's vault, phone code, palm); one
// pays at a first-party lane (the other's card is declined), then at a third-party merchant that
// only gets a single-use credential; a ticket granted through the operator API opens a gate; a
// deletion request at a service point removes the first person, whom the gate no longer knows.
// A lane whose scanner window is fogged shows the step-up: the store region decides as it would
// with 100,000 customers (demoStorePolicy), Ada's noisy capture lands between "clearly her" and
// "clearly nobody", and the lane asks for the last four digits of her phone.
import { randomBytes } from "node:crypto";
import { CheckoutLane } from "../edge/flows/checkout-lane.ts";
import { whenState } from "../edge/flows/flow-driver.ts";
import type { FlowResult } from "../edge/flows/flow-result.ts";
import { GateLane } from "../edge/flows/gate-lane.ts";
import { ServicePoint } from "../edge/flows/service-point.ts";
import { SimulatedDisplay } from "../hardware/display.ts";
import { SimulatedGateRelay } from "../hardware/gate-relay.ts";
import { SimulatedKeypad } from "../hardware/keypad.ts";
import { SimulatedPalmSensor } from "../hardware/simulated-palm-sensor.ts";
import { IdentificationPolicy } from "../core/identification-policy.ts";
import { deployedScoreCalibration } from "../core/score-calibration.ts";
import type { DeviceMode } from "../edge/device-mode.ts";
import { STEP_UP_PROMPT } from "../edge/flows/step-up.ts";
import type { PalmFrame, PalmSensor } from "../hardware/palm-sensor.ts";
import { SeededRandom } from "../hardware/synthetic-palm/seeded-random.ts";
import { DECLINING_CARD, GOOD_CARD } from "./simulated-site.ts";
import type { ReplicationStatus } from "../cloud/replication/region-replication.ts";
import type { SimulatedRegion } from "./simulated-region.ts";

/**
 * How the demo's store region decides: the default policy (FPIR 1e-4, the deployed calibration of
 * the template matcher), for the 100,000 customers the store is sized for rather than the handful
 * enrolled during the demo.
 */
export const demoStorePolicy = (): IdentificationPolicy => new IdentificationPolicy({ calibration: deployedScoreCalibration, minimumPopulation: 100_000 });

/** Sensor noise of this many grey levels (sigma) over both channels: a fogged scanner window. The
 *  template matcher shrugs off noise until the quality gate refuses the frame; at 48 Ada's scores
 *  spread over 0.66-0.74, across the grey zone (0.688-0.736 at 100,000 customers). */
const FOG_SIGMA = 48;

/** A scanner behind a fogged window: each frame of the real sensor gets seeded Gaussian noise. */
const foggedSensor = (inner: PalmSensor, seed: number): PalmSensor => {
  const random = new SeededRandom(seed);
  const fog = (channel: Uint8Array) => {
    for (let i = 0; i < channel.length; i++) {
      const g = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
      channel[i] = Math.max(0, Math.min(255, Math.round(channel[i]! + FOG_SIGMA * g)));
    }
  };
  return {
    capture: async (): Promise<PalmFrame> => {
      const frame = await inner.capture();
      fog(frame.visible);
      if (frame.nir !== undefined) fog(frame.nir);
      return frame;
    },
  };
};

export type RecordFlow = (who: string, expected: FlowResult["kind"], result: FlowResult) => void;

/**
 * A device of the demo with its own display and simulated sensor. The sensor seeds are fixed per
 * device, so each scene (the fogged lane's step-up above all) sees the same captures every run.
 */
const demoDevice = async (region: SimulatedRegion, name: string, mode: DeviceMode, sensorSeed: number, merchantId?: string) => {
  const { agent, extractor } = await region.device(name, { mode, ...(merchantId !== undefined ? { binding: { merchantId } } : {}) });
  return { agent, extractor, sensor: new SimulatedPalmSensor({ seed: sensorSeed }), display: new SimulatedDisplay() };
};

/** What every demo flow runs with: where decisions go, and when to stop. */
export interface DemoFlowRun {
  readonly record: RecordFlow;
  readonly stopping: () => boolean;
}

/** The store's scenes on one region; its devices and flows stay until the region closes. */
export const runDemoFlows = async (region: SimulatedRegion, run: DemoFlowRun): Promise<void> => {
  const { record, stopping } = run;
  const stops = region.stops;
  const ada = { seed: 501, phone: "+4915100000501", pan: GOOD_CARD, loyaltyCard: "LOY-ADA-501" };
  const bo = { seed: 502, phone: "+4915100000502", pan: DECLINING_CARD, loyaltyCard: undefined };

  console.log("\ncard kiosk: card to the processor's vault, phone code by SMS, palm; the region tokenises the card");
  const kiosk = await region.kiosk("kiosk-card", { sensorSeed: 401 });
  for (const [who, person] of [
    ["Ada", ada],
    ["Bo", bo],
  ] as const) {
    if (stopping()) return;
    record(who, "enrolled", await kiosk.enroll(person));
  }

  console.log("\ncheckout, first-party lane: the region authorizes the amount, the lane captures it");
  const l = await demoDevice(region, "lane-store", "checkout", 402);
  const lane = new CheckoutLane({ ...l, merchantId: "palmline-store", merchantKind: "first-party" });
  stops.push(() => lane.stop());
  for (const [who, person, expected] of [
    ["Ada", ada, "approved"],
    ["Bo", bo, "declined"],
  ] as const) {
    if (stopping()) return;
    await whenState(lane.actor, "idle");
    lane.begin(who === "Ada" ? 1_299 : 450, "EUR");
    l.sensor.present({ subjectSeed: person.seed, side: "right" });
    record(who, expected, await lane.presentHand());
    l.sensor.present(undefined);
  }

  console.log("\ncheckout through a fogged scanner window: Ada's palm is not clear enough, so the lane asks for the last four digits of her phone");
  const f = await demoDevice(region, "lane-fogged", "checkout", 403);
  const digits = new SimulatedKeypad();
  const fogged = new CheckoutLane({ ...f, sensor: foggedSensor(f.sensor, 4_501), keypad: digits, merchantId: "palmline-store", merchantKind: "first-party" });
  stops.push(() => fogged.stop());
  digits.type(ada.phone.slice(-4));
  await whenState(fogged.actor, "idle");
  fogged.begin(420, "EUR");
  f.sensor.present({ subjectSeed: ada.seed, side: "right" });
  const steppedUp = await fogged.presentHand();
  f.sensor.present(undefined);
  // The scene is the step-up: a payment approved without one would not show it.
  record(
    "Ada",
    "approved",
    digits.prompts.includes(STEP_UP_PROMPT)
      ? { ...steppedUp, text: `after her phone's last 4 digits: ${steppedUp.text}` }
      : { kind: "failed", text: `no step-up was asked: ${steppedUp.text}` },
  );

  console.log("\ncheckout, third-party cafe: a single-use credential bound to the cafe; the amount stays at the cafe");
  const c = await demoDevice(region, "lane-cafe", "checkout", 404, "m_partner_cafe");
  const cafe = new CheckoutLane({ ...c, merchantId: "m_partner_cafe", merchantKind: "third-party" });
  stops.push(() => cafe.stop());
  cafe.begin(380, "EUR", randomBytes(16));
  c.sensor.present({ subjectSeed: ada.seed, side: "right" });
  const credential = await cafe.presentHand();
  record("Ada", "credential-issued", credential);
  const redeemed = await fetch(`${region.processor.url}/v1/merchant-credentials/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      token: credential.handoff?.token,
      merchantId: "m_partner_cafe",
      merchantNonce: credential.handoff?.merchantNonce,
      amountMinor: 380,
      currency: "EUR",
    }),
  });
  const redemption = (await redeemed.json()) as { status?: string };
  record("cafe redeems", "approved", {
    kind: redemption.status === "approved" ? "approved" : "failed",
    text: `the cafe charges 3.80 EUR with the credential at the processor: ${redemption.status ?? redeemed.status}`,
  });

  console.log("\nstadium gate: a ticket granted through the operator API (by phone number), entry by palm");
  const granted = await fetch(`${region.node.httpUrl}/api/entitlements`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${region.node.operatorToken}` },
    body: JSON.stringify({
      phone: ada.phone,
      kind: "ticket",
      venueId: "stadium",
      label: "Cup final, block C",
      validUntil: Date.now() + 86_400_000,
      entries: 2,
    }),
  });
  if (granted.status !== 201) throw new Error(`granting the ticket failed: HTTP ${granted.status}`);
  const g = await demoDevice(region, "gate-north", "gate", 405);
  const gate = new GateLane({ ...g, relay: new SimulatedGateRelay(), venueId: "stadium", gateId: "gate-north" });
  stops.push(() => gate.stop());
  for (const [who, person, expected] of [
    ["Ada", ada, "open"],
    ["Bo", bo, "denied"],
  ] as const) {
    await whenState(gate.actor, "idle");
    g.sensor.present({ subjectSeed: person.seed, side: "right" });
    record(who, expected, await gate.presentHand());
  }

  console.log("\nservice point: Ada asks to be deleted (palm + YES); her payment is settled, so it happens at once");
  const s = await demoDevice(region, "service-desk", "service-point", 406);
  const confirm = new SimulatedKeypad();
  const point = new ServicePoint({ ...s, keypad: confirm });
  stops.push(() => point.stop());
  confirm.type("YES");
  s.sensor.present({ subjectSeed: ada.seed, side: "right" });
  record("Ada", "deleted", await point.requestDeletion());
  await whenState(gate.actor, "idle");
  g.sensor.present({ subjectSeed: ada.seed, side: "right" });
  record("Ada again", "not-identified", await gate.presentHand());
};

/** Waits until every region's registry digest (GET /api/replication) is the same; answers how long that took. */
const untilReplicated = async (regions: readonly SimulatedRegion[], timeoutMs = 20_000): Promise<number> => {
  const started = performance.now();
  for (;;) {
    const statuses = await Promise.all(
      regions.map(
        async (r) =>
          (await (
            await fetch(`${r.node.httpUrl}/api/replication`, { headers: { authorization: `Bearer ${r.node.operatorToken}` } })
          ).json()) as ReplicationStatus,
      ),
    );
    const digests = statuses.map((s) => s.digest);
    if (digests[0] !== undefined && digests.every((d) => d === digests[0])) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      // What each side knows of the other, so the reason is on the line that reports it.
      const state = statuses
        .map((s) => `${s.regionId}: live ${s.live}, feed ${s.latestSeq}, peers ${JSON.stringify(s.peers)}, dialers ${JSON.stringify(s.dialers)}`)
        .join("; ");
      throw new Error(`regions ${regions.map((r) => r.regionId).join(" and ")} did not converge within ${timeoutMs} ms (${state})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/**
 * Two federated regions: Cem enrolls at a card kiosk in `home`, pays at a lane
 * in `away` (his identity, card token included, replicated there), asks at `away`'s service
 * point to be deleted, and is then unknown at lanes in both regions.
 */
export const runTwoRegionFlows = async (home: SimulatedRegion, away: SimulatedRegion, run: DemoFlowRun): Promise<void> => {
  const { record, stopping } = run;
  const synced = (ms: number) => console.log(`  sync   | regions "${home.regionId}" and "${away.regionId}" hold the same registry after ${ms.toFixed(0)} ms`);
  const cem = { seed: 503, phone: "+4915100000503", pan: GOOD_CARD, loyaltyCard: undefined };
  console.log(`\ntwo regions: Cem enrolls in "${home.regionId}", pays in "${away.regionId}", is deleted there, and is unknown in both`);
  const kiosk = await home.kiosk(`kiosk-${home.regionId}`, { sensorSeed: 401 });
  record(`Cem at ${home.regionId}`, "enrolled", await kiosk.enroll(cem));
  synced(await untilReplicated([home, away]));
  if (stopping()) return;

  const lanes = await Promise.all(
    [away, home].map(async (region, i) => {
      const d = await demoDevice(region, `lane-${region.regionId}`, "checkout", 402 + i);
      const lane = new CheckoutLane({ ...d, merchantId: "palmline-store", merchantKind: "first-party" });
      region.stops.push(() => lane.stop());
      return { region, lane, sensor: d.sensor };
    }),
  );
  const pay = async (at: (typeof lanes)[number], expected: FlowResult["kind"]) => {
    await whenState(at.lane.actor, "idle");
    at.lane.begin(725, "EUR");
    at.sensor.present({ subjectSeed: cem.seed, side: "right" });
    record(`Cem at ${at.region.regionId}`, expected, await at.lane.presentHand());
    at.sensor.present(undefined);
  };
  await pay(lanes[0]!, "approved");

  const s = await demoDevice(away, `service-${away.regionId}`, "service-point", 404);
  const confirm = new SimulatedKeypad();
  const point = new ServicePoint({ ...s, keypad: confirm });
  away.stops.push(() => point.stop());
  confirm.type("YES");
  s.sensor.present({ subjectSeed: cem.seed, side: "right" });
  record(`Cem at ${away.regionId}`, "deleted", await point.requestDeletion());
  synced(await untilReplicated([home, away]));
  for (const at of lanes) await pay(at, "not-identified");
};
