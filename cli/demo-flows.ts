// The second half of `palmline demo`: the store, venue and service flows on the same region
// node. Two people enroll at a card kiosk (card to the processor's vault, phone code, palm); one
// pays at a first-party lane (the other's card is declined), then at a third-party merchant that
// only gets a single-use credential; a ticket granted through the operator API opens a gate; a
// deletion request at a service point removes the first person, whom the gate no longer knows.
// A lane whose scanner window is fogged shows the step-up: the store region decides as it would
// with 100,000 customers (demoStorePolicy), Ada's noisy capture lands between "clearly her" and
// "clearly nobody", and the lane asks for the last four digits of her phone.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SimulatedSmsGateway } from "../cloud/phone/phone-verifier.ts";
import { SignatureExtractor } from "../edge/biometrics/signature-extractor.ts";
import { DeviceAgent } from "../edge/device-agent.ts";
import { CheckoutLane } from "../edge/flows/checkout-lane.ts";
import { EnrollmentKiosk } from "../edge/flows/enrollment-kiosk.ts";
import { whenState } from "../edge/flows/flow-driver.ts";
import type { FlowResult } from "../edge/flows/flow-result.ts";
import { GateLane } from "../edge/flows/gate-lane.ts";
import { ServicePoint } from "../edge/flows/service-point.ts";
import { CardVaultClient } from "../edge/payments/card-vault-client.ts";
import { SimulatedCardReader } from "../hardware/card-reader.ts";
import { SimulatedDisplay } from "../hardware/display.ts";
import { SimulatedGateRelay } from "../hardware/gate-relay.ts";
import { SimulatedKeypad } from "../hardware/keypad.ts";
import { SimulatedPalmSensor } from "../hardware/simulated-palm-sensor.ts";
import type { InspectionEvent } from "xstate";
import { IdentificationPolicy } from "../core/identification-policy.ts";
import { deployedScoreCalibration } from "../core/score-calibration.ts";
import { STEP_UP_PROMPT } from "../edge/flows/step-up.ts";
import type { PalmFrame, PalmSensor } from "../hardware/palm-sensor.ts";
import { SeededRandom } from "../hardware/synthetic-palm/seeded-random.ts";
import { DECLINING_CARD, GOOD_CARD } from "./simulated-site.ts";
import type { ReplicationStatus } from "../cloud/replication/region-replication.ts";

export interface DemoRegion {
  readonly regionId: string;
  readonly url: string;
  readonly httpUrl: string;
  readonly identityPublicKey: Uint8Array;
  readonly issueProvisioningCode: () => string;
}

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

/** Scanners for the demo: each provisioned to its region with a one-time code, with its own model session. */
const demoDevices = (inspect?: (event: InspectionEvent) => void) => {
  const scratch = mkdtempSync(join(tmpdir(), "palmline-demo-devices-"));
  const agents: DeviceAgent[] = [];
  const extractors: SignatureExtractor[] = [];
  return {
    provision: async (region: DemoRegion, name: string) => {
      const agent = new DeviceAgent({ deviceName: name, stateDir: join(scratch, name), region: { url: region.url, identityPublicKey: region.identityPublicKey }, provisioningCode: region.issueProvisioningCode(), ...(inspect !== undefined ? { inspect } : {}) });
      agents.push(agent);
      await agent.online();
      const extractor = await SignatureExtractor.load();
      extractors.push(extractor);
      return { agent, extractor, sensor: new SimulatedPalmSensor({ seed: 400 + agents.length }), display: new SimulatedDisplay() };
    },
    close: async () => {
      for (const a of agents) a.stop();
      for (const e of extractors) await e.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
};

type DemoDevice = Awaited<ReturnType<ReturnType<typeof demoDevices>["provision"]>>;

interface CardHolder {
  readonly seed: number;
  readonly phone: string;
  readonly pan: string;
  readonly loyaltyCard: string | undefined;
}

/** A card enrollment kiosk; `enroll` walks a person through it: card, phone, the SMS code, palm. */
const cardKiosk = (k: DemoDevice, processorUrl: string, sms: SimulatedSmsGateway) => {
  const cardReader = new SimulatedCardReader();
  const keypad = new SimulatedKeypad();
  const kiosk = new EnrollmentKiosk({ ...k, cardReader, keypad, vault: new CardVaultClient(processorUrl) });
  return {
    stop: () => kiosk.stop(),
    enroll: async (person: CardHolder): Promise<FlowResult> => {
      await whenState(kiosk.actor, "idle");
      const done = kiosk.start(person.loyaltyCard);
      cardReader.insert({ pan: person.pan, expiryMonth: 12, expiryYear: 2031 });
      keypad.type(person.phone);
      await whenState(kiosk.actor, "enteringCode");
      keypad.type(sms.lastCodeFor(person.phone) ?? "000000");
      await whenState(kiosk.actor, "awaitingPalm");
      k.sensor.present({ subjectSeed: person.seed, side: "right" });
      kiosk.presentHand();
      const result = await done;
      k.sensor.present(undefined);
      return result;
    },
  };
};

/** What every demo flow runs with: the processor, the SMS outbox, where decisions go, when to stop. */
export interface DemoFlowRun {
  readonly processorUrl: string;
  readonly sms: SimulatedSmsGateway;
  readonly record: RecordFlow;
  readonly stopping: () => boolean;
  readonly inspect?: (event: InspectionEvent) => void;
}

export const runDemoFlows = async (region: DemoRegion, run: DemoFlowRun): Promise<void> => {
  const { processorUrl, sms, record, stopping } = run;
  const devices = demoDevices(run.inspect);
  const stops: (() => void)[] = [];
  const device = (name: string) => devices.provision(region, name);
  try {
    const ada = { seed: 501, phone: "+4915100000501", pan: GOOD_CARD, loyaltyCard: "LOY-ADA-501" };
    const bo = { seed: 502, phone: "+4915100000502", pan: DECLINING_CARD, loyaltyCard: undefined };

    console.log("\ncard kiosk: card to the processor's vault, phone code by SMS, palm; the region tokenises the card");
    const kiosk = cardKiosk(await device("kiosk-card"), processorUrl, sms);
    stops.push(kiosk.stop);
    for (const [who, person] of [["Ada", ada], ["Bo", bo]] as const) {
      if (stopping()) return;
      record(who, "enrolled", await kiosk.enroll(person));
    }

    console.log("\ncheckout, first-party lane: the region authorizes the amount, the lane captures it");
    const l = await device("lane-store");
    const lane = new CheckoutLane({ ...l, merchantId: "palmline-store", merchantKind: "first-party" });
    stops.push(() => lane.stop());
    for (const [who, person, expected] of [["Ada", ada, "approved"], ["Bo", bo, "declined"]] as const) {
      if (stopping()) return;
      await whenState(lane.actor, "idle");
      lane.begin(who === "Ada" ? 1_299 : 450, "EUR");
      l.sensor.present({ subjectSeed: person.seed, side: "right" });
      record(who, expected, await lane.presentHand());
      l.sensor.present(undefined);
    }

    console.log("\ncheckout through a fogged scanner window: Ada's palm is not clear enough, so the lane asks for the last four digits of her phone");
    const f = await device("lane-fogged");
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
      digits.prompts.includes(STEP_UP_PROMPT) ? { ...steppedUp, text: `after her phone's last 4 digits: ${steppedUp.text}` } : { kind: "failed", text: `no step-up was asked: ${steppedUp.text}` },
    );

    console.log("\ncheckout, third-party cafe: a single-use credential bound to the cafe; the amount stays at the cafe");
    const c = await device("lane-cafe");
    const cafe = new CheckoutLane({ ...c, merchantId: "m_partner_cafe", merchantKind: "third-party" });
    stops.push(() => cafe.stop());
    cafe.begin(380, "EUR", randomBytes(16));
    c.sensor.present({ subjectSeed: ada.seed, side: "right" });
    const credential = await cafe.presentHand();
    record("Ada", "credential-issued", credential);
    const redeemed = await fetch(`${processorUrl}/v1/merchant-credentials/redeem`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: credential.handoff?.token, merchantId: "m_partner_cafe", amountMinor: 380, currency: "EUR" }),
    });
    const redemption = (await redeemed.json()) as { status?: string };
    record("cafe redeems", "approved", { kind: redemption.status === "approved" ? "approved" : "failed", text: `the cafe charges 3.80 EUR with the credential at the processor: ${redemption.status ?? redeemed.status}` });

    console.log("\nstadium gate: a ticket granted through the operator API (by phone number), entry by palm");
    const granted = await fetch(`${region.httpUrl}/api/entitlements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phone: ada.phone, kind: "ticket", venueId: "stadium", label: "Cup final, block C", validUntil: Date.now() + 86_400_000, entries: 2 }),
    });
    if (granted.status !== 201) throw new Error(`granting the ticket failed: HTTP ${granted.status}`);
    const g = await device("gate-north");
    const gate = new GateLane({ ...g, relay: new SimulatedGateRelay(), venueId: "stadium", gateId: "gate-north" });
    stops.push(() => gate.stop());
    for (const [who, person, expected] of [["Ada", ada, "open"], ["Bo", bo, "denied"]] as const) {
      await whenState(gate.actor, "idle");
      g.sensor.present({ subjectSeed: person.seed, side: "right" });
      record(who, expected, await gate.presentHand());
    }

    console.log("\nservice point: Ada asks to be deleted (palm + YES); her payment is settled, so it happens at once");
    const s = await device("service-desk");
    const confirm = new SimulatedKeypad();
    const point = new ServicePoint({ ...s, keypad: confirm });
    stops.push(() => point.stop());
    confirm.type("YES");
    s.sensor.present({ subjectSeed: ada.seed, side: "right" });
    record("Ada", "deleted", await point.requestDeletion());
    await whenState(gate.actor, "idle");
    g.sensor.present({ subjectSeed: ada.seed, side: "right" });
    record("Ada again", "not-identified", await gate.presentHand());
  } finally {
    for (const stop of stops) stop();
    await devices.close();
  }
};

/** Waits until every region's registry digest (GET /api/replication) is the same; answers how long that took. */
const untilReplicated = async (regions: readonly DemoRegion[], timeoutMs = 20_000): Promise<number> => {
  const started = performance.now();
  for (;;) {
    const statuses = await Promise.all(regions.map(async (r) => (await (await fetch(`${r.httpUrl}/api/replication`)).json()) as ReplicationStatus));
    const digests = statuses.map((s) => s.digest);
    if (digests[0] !== undefined && digests.every((d) => d === digests[0])) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      // What each side knows of the other, so the reason is on the line that reports it.
      const state = statuses.map((s) => `${s.regionId}: live ${s.live}, feed ${s.latestSeq}, peers ${JSON.stringify(s.peers)}, dialers ${JSON.stringify(s.dialers)}`).join("; ");
      throw new Error(`regions ${regions.map((r) => r.regionId).join(" and ")} did not converge within ${timeoutMs} ms (${state})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/**
 * Two regions joined by a federation key: Cem enrolls at a card kiosk in `home`, pays at a lane
 * in `away` (his identity, card token included, replicated there), asks at `away`'s service
 * point to be deleted, and is then unknown at lanes in both regions.
 */
export const runTwoRegionFlows = async (home: DemoRegion, away: DemoRegion, run: DemoFlowRun): Promise<void> => {
  const { processorUrl, sms, record, stopping } = run;
  const devices = demoDevices(run.inspect);
  const stops: (() => void)[] = [];
  const synced = (ms: number) => console.log(`  sync   | regions "${home.regionId}" and "${away.regionId}" hold the same registry after ${ms.toFixed(0)} ms`);
  try {
    const cem = { seed: 503, phone: "+4915100000503", pan: GOOD_CARD, loyaltyCard: undefined };
    console.log(`\ntwo regions: Cem enrolls in "${home.regionId}", pays in "${away.regionId}", is deleted there, and is unknown in both`);
    const kiosk = cardKiosk(await devices.provision(home, `kiosk-${home.regionId}`), processorUrl, sms);
    stops.push(kiosk.stop);
    record(`Cem at ${home.regionId}`, "enrolled", await kiosk.enroll(cem));
    synced(await untilReplicated([home, away]));
    if (stopping()) return;

    const lanes = await Promise.all(
      [away, home].map(async (region) => {
        const d = await devices.provision(region, `lane-${region.regionId}`);
        const lane = new CheckoutLane({ ...d, merchantId: "palmline-store", merchantKind: "first-party" });
        stops.push(() => lane.stop());
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

    const s = await devices.provision(away, `service-${away.regionId}`);
    const confirm = new SimulatedKeypad();
    const point = new ServicePoint({ ...s, keypad: confirm });
    stops.push(() => point.stop());
    confirm.type("YES");
    s.sensor.present({ subjectSeed: cem.seed, side: "right" });
    record(`Cem at ${away.regionId}`, "deleted", await point.requestDeletion());
    synced(await untilReplicated([home, away]));
    for (const at of lanes) await pay(at, "not-identified");
  } finally {
    for (const stop of stops) stop();
    await devices.close();
  }
};
