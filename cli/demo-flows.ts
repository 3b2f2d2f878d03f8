// The second half of `palmline demo`: the store, venue and service flows on the same region
// node. Two people enroll at a card kiosk (card to the processor's vault, phone code, palm); one
// pays at a first-party lane (the other's card is declined), then at a third-party merchant that
// only gets a single-use credential; a ticket granted through the operator API opens a gate; a
// deletion request at a service point removes the first person, whom the gate no longer knows.
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
import { DECLINING_CARD, GOOD_CARD } from "./simulated-site.ts";

export interface DemoRegion {
  readonly url: string;
  readonly httpUrl: string;
  readonly identityPublicKey: Uint8Array;
  readonly issueProvisioningCode: () => string;
}

export type RecordFlow = (who: string, expected: FlowResult["kind"], result: FlowResult) => void;

export const runDemoFlows = async (
  region: DemoRegion,
  processorUrl: string,
  sms: SimulatedSmsGateway,
  record: RecordFlow,
  stopping: () => boolean,
  inspect?: (event: InspectionEvent) => void,
): Promise<void> => {
  const scratch = mkdtempSync(join(tmpdir(), "palmline-demo-devices-"));
  const agents: DeviceAgent[] = [];
  const extractors: SignatureExtractor[] = [];
  const stops: (() => void)[] = [];
  const device = async (name: string) => {
    const agent = new DeviceAgent({ deviceName: name, stateDir: join(scratch, name), region: { url: region.url, identityPublicKey: region.identityPublicKey }, provisioningCode: region.issueProvisioningCode(), ...(inspect !== undefined ? { inspect } : {}) });
    agents.push(agent);
    await agent.online();
    const extractor = await SignatureExtractor.load();
    extractors.push(extractor);
    return { agent, extractor, sensor: new SimulatedPalmSensor({ seed: 400 + agents.length }), display: new SimulatedDisplay() };
  };
  try {
    const ada = { seed: 501, phone: "+4915100000501", pan: GOOD_CARD, loyaltyCard: "LOY-ADA-501" };
    const bo = { seed: 502, phone: "+4915100000502", pan: DECLINING_CARD, loyaltyCard: undefined };

    console.log("\ncard kiosk: card to the processor's vault, phone code by SMS, palm; the region tokenises the card");
    const k = await device("kiosk-card");
    const cardReader = new SimulatedCardReader();
    const keypad = new SimulatedKeypad();
    const kiosk = new EnrollmentKiosk({ ...k, cardReader, keypad, vault: new CardVaultClient(processorUrl) });
    stops.push(() => kiosk.stop());
    for (const [who, person] of [["Ada", ada], ["Bo", bo]] as const) {
      if (stopping()) return;
      await whenState(kiosk.actor, "idle");
      const done = kiosk.start(person.loyaltyCard);
      cardReader.insert({ pan: person.pan, expiryMonth: 12, expiryYear: 2031 });
      keypad.type(person.phone);
      await whenState(kiosk.actor, "enteringCode");
      keypad.type(sms.lastCodeFor(person.phone) ?? "000000");
      await whenState(kiosk.actor, "awaitingPalm");
      k.sensor.present({ subjectSeed: person.seed, side: "right" });
      kiosk.presentHand();
      record(who, "enrolled", await done);
      k.sensor.present(undefined);
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
    for (const a of agents) a.stop();
    for (const e of extractors) await e.close();
    rmSync(scratch, { recursive: true, force: true });
  }
};
