// One region as the demo, the gate and kiosk commands and the tests run it, in this process (the
// store runs its node and processor apart: simulated-region-apart.ts, on simulatedDevices below):
// the region node on 127.0.0.1 (real SQLite, shards, libsodium), the payment processor simulator
// over HTTP, the simulated SMS gateway, and devices provisioned with one-time codes over real
// encrypted WebSockets, each capturing simulated palms through the real ONNX extractor.
// Regions of one federation share a processor and an SMS gateway; everything a region started
// (devices, flows, the node, its own processor, its temporary directory) ends with its close().
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Data } from "effect";
import { startProcessorSimulator, type ProcessorSimulator } from "../cloud/payments/processor-simulator.ts";
import { SimulatedSmsGateway } from "../cloud/phone/phone-verifier.ts";
import { startRegionNode, type RegionNodeSettings } from "../cloud/region-node.ts";
import { DEVICE_ROLES, deviceBinding, type DeviceBinding, type DeviceRole } from "../cloud/storage/device-binding.ts";
import { systemClock, type Clock } from "../core/clock.ts";
import { SignatureExtractor } from "../edge/biometrics/signature-extractor.ts";
import { DeviceAgent } from "../edge/device-agent.ts";
import { createDeviceCredentials } from "../edge/device-credentials.ts";
import type { DeviceMode } from "../edge/device-mode.ts";
import { EnrollmentKiosk } from "../edge/flows/enrollment-kiosk.ts";
import { whenState } from "../edge/flows/flow-driver.ts";
import type { FlowResult } from "../edge/flows/flow-result.ts";
import { CardVaultClient, type VaultedCard } from "../edge/payments/card-vault-client.ts";
import { RegionLink } from "../edge/region-link.ts";
import { SimulatedCardReader } from "../hardware/card-reader.ts";
import { SimulatedDisplay } from "../hardware/display.ts";
import { SimulatedKeypad } from "../hardware/keypad.ts";
import { SimulatedPalmSensor, type PresentationAttack } from "../hardware/simulated-palm-sensor.ts";
import type { WireMessage } from "../protocol/index.ts";
import type { InspectionEvent } from "xstate";
import { PalmScanner, SCANNER_ENROLLMENT_CAPTURES } from "./palm-scanner.ts";

/** The node's own settings, each defaulted (region "site", any free port, 2 shards, system clock), plus what the simulation adds. */
export interface SimulatedRegionOptions extends Partial<Omit<RegionNodeSettings, "host" | "processorUrl" | "sms">> {
  /** A processor shared with other regions (left running at close); by default the region starts its own. */
  readonly processor?: ProcessorSimulator;
  /** An SMS gateway shared with other regions; by default a silent one of its own. */
  readonly sms?: SimulatedSmsGateway;
  /** The clock devices run their flows on, unless a device is given its own (default: the system clock). */
  readonly deviceClock?: Clock;
  /** Each device its own model session, as separate devices have (the demo, the benches); by default they share `extractor`. */
  readonly extractorPerDevice?: boolean;
}

/** The merchant and venue a simulated device is bound to unless it names its own. */
export const SIMULATED_MERCHANT = "palmline-store";
export const SIMULATED_VENUE = "stadium";

/** What the region lets a simulated device do (cloud/storage/device-binding.ts). */
export interface SimulatedBinding {
  /** Its roles; default its mode's, or every role for a device set up for any flow. */
  readonly roles?: readonly DeviceRole[];
  /** Default SIMULATED_MERCHANT. */
  readonly merchantId?: string;
  /** Default SIMULATED_VENUE. */
  readonly venueId?: string;
}

const bindingFor = (mode: DeviceMode | undefined, b: SimulatedBinding = {}): DeviceBinding =>
  deviceBinding({
    roles: b.roles ?? (mode !== undefined ? [mode] : DEVICE_ROLES),
    merchantId: b.merchantId ?? SIMULATED_MERCHANT,
    venueId: b.venueId ?? SIMULATED_VENUE,
  });

export interface DeviceOptions {
  readonly mode?: DeviceMode;
  /** What the region binds the device to; by default what its mode does, at the simulation's store and venue. */
  readonly binding?: SimulatedBinding;
  readonly clock?: Clock;
  /** Sees every message the device sends (before encryption). */
  readonly tap?: (message: WireMessage) => void;
}

export interface ProvisionedDevice {
  readonly agent: DeviceAgent;
  readonly extractor: SignatureExtractor;
  /** Where the device keeps its key and pinned region key. */
  readonly stateDir: string;
}

/** A person at the card kiosk. */
export interface KioskVisitor {
  readonly seed: number;
  readonly pan: string;
  readonly phone: string;
  readonly loyaltyCard?: string | undefined;
}

/** How a kiosk visit goes wrong on purpose: a mistyped code, or an artefact instead of the hand. */
export interface KioskTwist {
  readonly wrongCode?: boolean;
  readonly attack?: PresentationAttack;
}

/** The region did not enroll a person the simulation enrolled directly. */
export class DirectEnrollmentRefused extends Data.TaggedError("DirectEnrollmentRefused")<{
  readonly subjectSeed: number;
  readonly outcome: string;
  readonly reason: string | undefined;
}> {
  override get message() {
    return `enrollment of palm ${this.subjectSeed} refused: ${this.outcome}${this.reason !== undefined ? ` (${this.reason})` : ""}`;
  }
}

/** Where simulated devices find their region: its address, its pinned key, and its one-time codes. */
export interface RegionEndpoint {
  readonly url: string;
  readonly identityPublicKey: Uint8Array;
  issueProvisioningCode(binding: DeviceBinding): string;
}

/** Where the simulation reads the code the region last texted to a number (cloud/phone/phone-verifier.ts). */
export interface SmsInbox {
  codeFor(number: string): Promise<string | undefined>;
}

/**
 * The simulation's devices on a region, wherever the region runs (this process, or processes of
 * their own: simulated-region-apart.ts): agents provisioned with one-time codes, bare links,
 * scanners, kiosks and direct enrollment; close() ends the devices, not the region.
 */
export const simulatedDevices = async (options: {
  readonly endpoint: RegionEndpoint;
  readonly processorUrl: string;
  readonly sms: SmsInbox;
  /** A directory of the caller's, removed by the caller, under which devices keep their state. */
  readonly scratch: string;
  readonly deviceClock?: Clock;
  readonly extractorPerDevice?: boolean;
  readonly inspect?: (event: InspectionEvent) => void;
}) => {
  const { endpoint, processorUrl, sms, scratch, deviceClock, extractorPerDevice, inspect } = options;
  const extractor = await SignatureExtractor.load();
  const extractors: SignatureExtractor[] = [];
  const agents: DeviceAgent[] = [];
  const links: RegionLink[] = [];
  /** Flows and other things to stop before the devices under them. */
  const stops: (() => void)[] = [];
  const vault = new CardVaultClient(processorUrl);

  /** A device agent provisioned with a one-time code and online; its own state directory each time. */
  const onlineAgent = async (name: string, o: DeviceOptions) => {
    mkdirSync(join(scratch, "devices"), { recursive: true });
    const stateDir = mkdtempSync(join(scratch, "devices", `${name}-`));
    const clock = o.clock ?? deviceClock;
    const agent = new DeviceAgent({
      deviceName: name,
      stateDir,
      region: { url: endpoint.url, identityPublicKey: endpoint.identityPublicKey },
      provisioningCode: endpoint.issueProvisioningCode(bindingFor(o.mode, o.binding)),
      ...(o.mode !== undefined ? { mode: o.mode } : {}),
      ...(clock !== undefined ? { clock } : {}),
      ...(o.tap !== undefined ? { tap: o.tap } : {}),
      ...(inspect !== undefined ? { inspect } : {}),
    });
    agents.push(agent);
    await agent.online();
    return { agent, stateDir };
  };

  /** A device with its extractor: its own with `extractorPerDevice`, else the shared one. */
  const device = async (name: string, o: DeviceOptions = {}): Promise<ProvisionedDevice> => {
    const d = await onlineAgent(name, o);
    if (extractorPerDevice !== true) return { ...d, extractor };
    const own = await SignatureExtractor.load();
    extractors.push(own);
    return { ...d, extractor: own };
  };

  /** A provisioned device's bare link, no agent: for requests a test sends itself. */
  const link = async (name: string, o: { clock?: Clock; binding?: SimulatedBinding } = {}): Promise<RegionLink> => {
    const credentials = await createDeviceCredentials({ regionUrl: endpoint.url, pinnedRegionKey: endpoint.identityPublicKey, deviceName: name });
    const connected = await RegionLink.connect({
      credentials,
      provisioningCode: endpoint.issueProvisioningCode(bindingFor(undefined, o.binding)),
      ...(o.clock !== undefined ? { clock: o.clock } : {}),
    });
    links.push(connected);
    return connected;
  };

  /** A bare palm scanner (cli/palm-scanner.ts) with its own simulated sensor. */
  const scanner = async (name: string, o: { sensorSeed: number; clock?: Clock }): Promise<PalmScanner> => {
    const d = await device(name, o.clock !== undefined ? { clock: o.clock } : {});
    return new PalmScanner({ agent: d.agent, sensor: new SimulatedPalmSensor({ seed: o.sensorSeed }), extractor: d.extractor });
  };

  /** The card kiosk on its simulated card reader, keypad, display and palm sensor; `enroll` walks a person through it. */
  const kiosk = async (name: string, o: { clock?: Clock; resultShownMs?: number; sensorSeed?: number } = {}) => {
    const d = await device(name, { mode: "enrollment-kiosk", ...(o.clock !== undefined ? { clock: o.clock } : {}) });
    const sensor = new SimulatedPalmSensor({ seed: o.sensorSeed ?? 101 });
    const cardReader = new SimulatedCardReader();
    const keypad = new SimulatedKeypad();
    const display = new SimulatedDisplay();
    const k = new EnrollmentKiosk({
      ...d,
      sensor,
      cardReader,
      keypad,
      display,
      vault,
      ...(o.resultShownMs !== undefined ? { resultShownMs: o.resultShownMs } : {}),
    });
    stops.push(() => k.stop());
    const reach = (state: string) => whenState(k.actor, state);
    /** Card, phone, the code from the person's SMS, palm; resolves with what the kiosk shows. */
    const enroll = async (person: KioskVisitor, twist: KioskTwist = {}): Promise<FlowResult> => {
      await reach("idle");
      const done = k.start(person.loyaltyCard);
      cardReader.insert({ pan: person.pan, expiryMonth: 12, expiryYear: 2031 });
      keypad.type(person.phone);
      await reach("enteringCode");
      const code = (await sms.codeFor(person.phone)) ?? "000000";
      keypad.type(twist.wrongCode === true ? (code === "000000" ? "111111" : "000000") : code);
      await Promise.race([reach("awaitingPalm"), done]);
      sensor.present({ subjectSeed: person.seed, side: "right", ...(twist.attack !== undefined ? { attack: twist.attack } : {}) });
      k.presentHand();
      const result = await done;
      sensor.present(undefined);
      return result;
    };
    const stop = () => {
      k.stop();
      d.agent.stop();
    };
    return { ...d, kiosk: k, sensor, cardReader, keypad, display, reach, enroll, stop };
  };

  const vaultCard = (pan: string): Promise<VaultedCard> => vault.vault({ pan, expiryMonth: 12, expiryYear: 2031 });

  /**
   * Enrolls simulated person `subjectSeed` straight over a fresh device's link (the kiosk flow has
   * its own tests): four captures through the shared extractor, the card vaulted first, the phone
   * verified by SMS when given.
   */
  const enroll = async (subjectSeed: number, o: { pan?: string; phone?: string; loyaltyCard?: string; sensorSeed?: number } = {}): Promise<string> => {
    const d = await onlineAgent(`enroller-${subjectSeed}`, {});
    try {
      const scan = new PalmScanner({ agent: d.agent, sensor: new SimulatedPalmSensor({ seed: o.sensorSeed ?? 900 + subjectSeed }), extractor });
      const link = await d.agent.online();
      const sealed = await scan.sealedCaptures(link, subjectSeed, SCANNER_ENROLLMENT_CAPTURES);
      const card = await vaultCard(o.pan ?? "4242424242424242");
      if (o.phone !== undefined) await link.verifyPhone(o.phone);
      const verificationCode = o.phone !== undefined ? ((await sms.codeFor(o.phone)) ?? "000000") : undefined;
      const result = await link.enroll(sealed, {
        ...(o.phone !== undefined && verificationCode !== undefined ? { phone: { number: o.phone, verificationCode } } : {}),
        card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
        ...(o.loyaltyCard !== undefined ? { loyaltyCard: o.loyaltyCard } : {}),
      });
      if (result.outcome !== "enrolled" || result.identityId === undefined)
        throw new DirectEnrollmentRefused({ subjectSeed, outcome: result.outcome, reason: result.reason });
      return result.identityId;
    } finally {
      d.agent.stop();
    }
  };

  /** The processor's authorizations as its HTTP API lists them. */
  const charges = async () => {
    const response = await fetch(`${processorUrl}/v1/authorizations`);
    return (
      (await response.json()) as {
        authorizations: { authorizationId: string; idempotencyKey: string; state: string; amountMinor: number; merchantId: string }[];
      }
    ).authorizations;
  };

  const close = async () => {
    for (const stop of stops.splice(0)) stop();
    for (const a of agents.splice(0)) a.stop();
    for (const l of links.splice(0)) l.close();
    for (const e of [extractor, ...extractors.splice(0)]) await e.close();
  };

  return { extractor, stops, device, link, scanner, kiosk, vaultCard, enroll, charges, close };
};

export const startSimulatedRegion = async (options: SimulatedRegionOptions = {}) => {
  const { processor: sharedProcessor, sms: sharedSms, deviceClock, extractorPerDevice, ...settings } = options;
  const regionId = settings.regionId ?? "site";
  const scratch = mkdtempSync(join(tmpdir(), `palmline-${regionId}-`));
  const processor = sharedProcessor ?? (await startProcessorSimulator());
  const sms = sharedSms ?? new SimulatedSmsGateway();
  const logs: string[] = [];
  const dataDir = settings.dataDir ?? join(scratch, "region");
  const node = await startRegionNode({
    port: 0,
    shardCount: 2,
    clock: systemClock,
    log: (line) => logs.push(line),
    ...settings,
    regionId,
    dataDir,
    host: "127.0.0.1",
    processorUrl: processor.url,
    sms,
  }).catch(async (error: unknown) => {
    if (sharedProcessor === undefined) await processor.close();
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  });
  const devices = await simulatedDevices({
    endpoint: node,
    processorUrl: processor.url,
    sms: { codeFor: async (number) => sms.lastCodeFor(number) },
    scratch,
    ...(deviceClock !== undefined ? { deviceClock } : {}),
    ...(extractorPerDevice !== undefined ? { extractorPerDevice } : {}),
    ...(settings.inspection !== undefined ? { inspect: settings.inspection.inspectAs("devices") } : {}),
  });

  const close = async () => {
    await devices.close();
    await node.close().catch(() => {}); // a test may have closed it already
    if (sharedProcessor === undefined) await processor.close();
    rmSync(scratch, { recursive: true, force: true });
  };

  return { ...devices, regionId, node, processor, sms, logs, dataDir, close };
};

export type SimulatedRegion = Awaited<ReturnType<typeof startSimulatedRegion>>;
