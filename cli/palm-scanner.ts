// A bare palm scanner on a device agent: no card reader, keypad or relay, only palm enrollment,
// identification and deletion straight over the agent's current link. What the demo's first act,
// the restart tests and the federation tests present simulated hands to; the store's own devices
// run the flows in edge/flows/ instead. It follows its region through a reconnect, as the agent does.
import type { SignatureExtractor } from "../edge/biometrics/signature-extractor.ts";
import type { DeviceAgent } from "../edge/device-agent.ts";
import { captureSealedSignature } from "../edge/palm-capture.ts";
import type { RegionLink } from "../edge/region-link.ts";
import type { SimulatedPalmSensor } from "../hardware/simulated-palm-sensor.ts";

/** One more than the region's minimum of three agreeing captures, so one poor capture is tolerated. */
export const SCANNER_ENROLLMENT_CAPTURES = 4;

/** What a scan ends in; latency runs from the hand over the sensor to the region's answer. */
export type ScanOutcome =
  | { readonly kind: "identified"; readonly identityId: string; readonly latencyMs: number }
  | { readonly kind: "not-identified"; readonly latencyMs: number }
  | { readonly kind: "enrolled"; readonly identityId: string; readonly latencyMs: number }
  | { readonly kind: "already-enrolled"; readonly latencyMs: number }
  | { readonly kind: "failed"; readonly reason: string };

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class PalmScanner {
  readonly name: string;
  readonly agent: DeviceAgent;
  readonly #sensor: SimulatedPalmSensor;
  readonly #extractor: SignatureExtractor;

  constructor(options: { agent: DeviceAgent; sensor: SimulatedPalmSensor; extractor: SignatureExtractor }) {
    this.agent = options.agent;
    this.name = options.agent.deviceName;
    this.#sensor = options.sensor;
    this.#extractor = options.extractor;
  }

  /** Enrolls the palm of simulated person `subjectSeed` (palm only: no card, no phone). */
  enroll(subjectSeed: number): Promise<ScanOutcome> {
    return this.#scan(subjectSeed, SCANNER_ENROLLMENT_CAPTURES, async (link, sealed, startedAt) => {
      const answer = await link.enroll(sealed);
      const latencyMs = this.agent.clock.now() - startedAt;
      if (answer.outcome === "enrolled" && answer.identityId !== undefined) return { kind: "enrolled", identityId: answer.identityId, latencyMs };
      if (answer.outcome === "already-enrolled") return { kind: "already-enrolled", latencyMs };
      return { kind: "failed", reason: answer.reason ?? "enrollment rejected" };
    });
  }

  /** One capture, identified by the region. A bare scanner has no keypad for a step-up: that is not identified, like a no-match. */
  identify(subjectSeed: number): Promise<ScanOutcome> {
    return this.#scan(subjectSeed, 1, async (link, [sealed], startedAt) => {
      const answer = await link.identify(sealed!);
      const latencyMs = this.agent.clock.now() - startedAt;
      return answer.outcome === "match" && answer.identityId !== null
        ? { kind: "identified", identityId: answer.identityId, latencyMs }
        : { kind: "not-identified", latencyMs };
    });
  }

  /** A deletion request (palm plus the person's confirmation); answers the region's outcome. */
  async requestDeletion(subjectSeed: number): Promise<string> {
    const link = await this.agent.online();
    const [sealed] = await this.sealedCaptures(link, subjectSeed, 1);
    return (await link.requestDeletion(sealed!)).outcome;
  }

  stop(): void {
    this.agent.stop();
  }

  /** `captures` signatures of the person's palm for one request, sealed to one challenge of the link's region. */
  async sealedCaptures(link: RegionLink, subjectSeed: number, captures: number): Promise<Uint8Array[]> {
    this.#sensor.present({ subjectSeed, side: "right" });
    try {
      const to = await link.captureSeal();
      const sealed: Uint8Array[] = [];
      for (let i = 0; i < captures; i++) sealed.push(await captureSealedSignature(this.#sensor, this.#extractor, to));
      return sealed;
    } finally {
      this.#sensor.present(undefined);
    }
  }

  async #scan(
    subjectSeed: number,
    captures: number,
    submit: (link: RegionLink, sealed: Uint8Array[], startedAt: number) => Promise<ScanOutcome>,
  ): Promise<ScanOutcome> {
    const startedAt = this.agent.clock.now();
    try {
      const link = await this.agent.online();
      return await submit(link, await this.sealedCaptures(link, subjectSeed, captures), startedAt);
    } catch (error) {
      return { kind: "failed", reason: reasonOf(error) };
    }
  }
}
