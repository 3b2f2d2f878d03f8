// A service point at a store: loyalty lookups and deletion requests, each its own machine, on one
// palm sensor, keypad and display.
import { createActor, fromPromise, type Actor } from "xstate";
import type { Display } from "../../hardware/display.ts";
import type { Keypad } from "../../hardware/keypad.ts";
import type { PalmSensor } from "../../hardware/palm-sensor.ts";
import type { SignatureExtractor } from "../biometrics/signature-extractor.ts";
import type { DeviceAgent } from "../device-agent.ts";
import { captureSealedSignature } from "../palm-capture.ts";
import { deletionMachine } from "./deletion-machine.ts";
import { describeFlowState, whenShowingResult, whenState } from "./flow-driver.ts";
import type { FlowResult } from "./flow-result.ts";
import { lookupMachine } from "./lookup-machine.ts";

export interface ServicePointOptions {
  readonly agent: DeviceAgent;
  readonly sensor: PalmSensor;
  readonly extractor: SignatureExtractor;
  readonly keypad: Keypad;
  readonly display: Display;
}

export class ServicePoint {
  readonly deletion: Actor<typeof deletionMachine>;
  readonly lookup: Actor<typeof lookupMachine>;
  readonly #agent: DeviceAgent;

  constructor(options: ServicePointOptions) {
    const { agent, sensor, extractor, keypad, display } = options;
    agent.requireMode("service-point");
    this.#agent = agent;
    const clock = agent.clock;
    const capture = fromPromise<Uint8Array>(async ({ signal }) =>
      captureSealedSignature(sensor, extractor, await (await agent.online()).captureSeal(), signal),
    );
    this.deletion = createActor(
      deletionMachine.provide({
        actors: {
          capture,
          confirm: fromPromise(async ({ signal }) => (await keypad.read("confirm deletion", signal)).trim().toUpperCase() === "YES"),
          request: fromPromise(async ({ input }): Promise<FlowResult> => {
            const answer = await (await agent.online()).requestDeletion(input.sealed);
            const latencyMs = clock.now() - input.handAt;
            if (answer.outcome === "deleted") return { kind: "deleted", text: "Your palm identity has been deleted", latencyMs };
            if (answer.outcome === "pending")
              return {
                kind: "deletion-pending",
                text: `Deletion recorded: it completes when ${answer.openTransactions ?? "your"} open payment(s) settle`,
                latencyMs,
              };
            if (answer.outcome === "no-match") return { kind: "not-identified", text: "Palm not recognised: nothing to delete", latencyMs };
            return { kind: "failed", text: `Refused: ${answer.reason ?? ""}`, latencyMs };
          }),
        },
      }),
      agent.flowActorOptions("deletion"),
    );
    this.lookup = createActor(
      lookupMachine.provide({
        actors: {
          capture,
          identify: fromPromise(async ({ input }): Promise<FlowResult> => {
            const answer = await (await agent.online()).identify(input.sealed);
            const latencyMs = clock.now() - input.handAt;
            // A loyalty lookup does not step up: a palm in the grey zone is simply not recognised.
            if (answer.outcome !== "match") return { kind: "not-identified", text: "Palm not recognised", latencyMs };
            return {
              kind: "identified",
              text: answer.loyaltyCard !== null ? `Loyalty card ${answer.loyaltyCard}` : "Recognised: no loyalty card linked",
              latencyMs,
            };
          }),
        },
      }),
      agent.flowActorOptions("loyalty-lookup"),
    );
    this.deletion.subscribe((s) => display.show(describeFlowState(s.value, s.context.result)));
    this.lookup.subscribe((s) => display.show(describeFlowState(s.value, s.context.result)));
    this.deletion.start();
    this.lookup.start();
  }

  /** The person asks for deletion and holds the hand over; resolves with the answer shown. */
  async requestDeletion(): Promise<FlowResult> {
    this.#agent.requireMode("service-point");
    this.deletion.send({ type: "START" });
    await whenState(this.deletion, "awaitingPalm");
    this.deletion.send({ type: "HAND_PRESENTED", at: this.#agent.clock.now() });
    return whenShowingResult(this.deletion);
  }

  lookupLoyalty(): Promise<FlowResult> {
    this.#agent.requireMode("service-point");
    this.lookup.send({ type: "HAND_PRESENTED", at: this.#agent.clock.now() });
    return whenShowingResult(this.lookup);
  }

  stop(): void {
    this.deletion.stop();
    this.lookup.stop();
  }
}
