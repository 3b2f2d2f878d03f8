// A scanner agent: the scanner machine bound to its sensor, the signature extractor and the
// region link. Capturing is palm-capture.ts's job (retries, zeroed pixels); what reaches the
// machine is a signature sealed to the region's template key.
import { createActor, fromPromise, waitFor, type Actor, type InspectionEvent } from "xstate";
import { systemClock, type Clock } from "../core/clock.ts";
import type { PalmSensor } from "../hardware/palm-sensor.ts";
import type { SignatureExtractor } from "./biometrics/signature-extractor.ts";
import { captureSealedSignature } from "./palm-capture.ts";
import type { RegionLink } from "./region-link.ts";
import { scannerAgentMachine, type ScanOutcome, type ScannerMode } from "./scanner-agent-machine.ts";

export interface ScannerAgentOptions {
  readonly name: string;
  readonly mode: ScannerMode;
  readonly sensor: PalmSensor;
  readonly extractor: SignatureExtractor;
  readonly link: RegionLink;
  readonly clock?: Clock;
  readonly inspect?: (event: InspectionEvent) => void;
}

export class ScannerAgent {
  readonly name: string;
  readonly actor: Actor<typeof scannerAgentMachine>;
  readonly #clock: Clock;

  constructor(options: ScannerAgentOptions) {
    this.name = options.name;
    this.#clock = options.clock ?? systemClock;
    const clock = this.#clock;
    const { sensor, extractor, link } = options;
    const machine = scannerAgentMachine.provide({
      actors: {
        captureSealedSignature: fromPromise(async ({ signal }) => captureSealedSignature(sensor, extractor, link.templatePublicKey, signal)),
        submit: fromPromise<ScanOutcome, { mode: ScannerMode; sealedCaptures: readonly Uint8Array[]; startedAt: number }>(async ({ input }) => {
          if (input.mode === "enrollment") {
            const result = await link.enroll(input.sealedCaptures);
            const latencyMs = clock.now() - input.startedAt;
            if (result.outcome === "enrolled" && result.identityId !== undefined) return { kind: "enrolled", identityId: result.identityId, latencyMs };
            if (result.outcome === "already-enrolled") return { kind: "already-enrolled", latencyMs };
            return { kind: "failed", reason: result.reason ?? "enrollment rejected" };
          }
          const [sealed] = input.sealedCaptures;
          if (sealed === undefined) return { kind: "failed", reason: "no capture" };
          const result = await link.identify(sealed);
          const latencyMs = clock.now() - input.startedAt;
          // A bare scanner has no keypad for a step-up: not identified, like a no-match.
          return result.outcome === "match" && result.identityId !== null
            ? { kind: "identified", identityId: result.identityId, latencyMs }
            : { kind: "not-identified", latencyMs };
        }),
      },
    });
    this.actor = createActor(machine, {
      input: { mode: options.mode },
      clock,
      ...(options.inspect !== undefined ? { inspect: options.inspect } : {}),
      systemId: options.name,
    });
    this.actor.start();
  }

  /** A hand arrives: runs the whole flow and resolves with what the display shows. */
  async presentHand(): Promise<ScanOutcome> {
    // No deadline here: on a paused (simulated) clock the previous result may stay up for as long
    // as the developer looks at it.
    await waitFor(this.actor, (s) => s.matches("idle"), { timeout: Infinity });
    this.actor.send({ type: "HAND_PRESENTED", at: this.#clock.now() });
    const shown = await waitFor(this.actor, (s) => s.matches("showingResult"), { timeout: 30_000 });
    return shown.context.lastOutcome ?? { kind: "failed", reason: "no outcome" };
  }

  withdrawHand(): void {
    this.actor.send({ type: "HAND_WITHDRAWN" });
  }

  stop(): void {
    this.actor.stop();
  }
}
