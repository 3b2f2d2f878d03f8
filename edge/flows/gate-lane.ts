// A gate: the gate machine bound to the palm sensor, the relay (with its passage sensor), the
// display, the keypad (for a step-up: the last four digits of the phone) and the device agent's
// link. A gate without a keypad cannot step up and says the palm was not recognised.
import { createActor, fromPromise, type Actor } from "xstate";
import type { Display } from "../../hardware/display.ts";
import type { GateRelay } from "../../hardware/gate-relay.ts";
import type { Keypad } from "../../hardware/keypad.ts";
import type { PalmSensor } from "../../hardware/palm-sensor.ts";
import type { SignatureExtractor } from "../biometrics/signature-extractor.ts";
import type { DeviceAgent } from "../device-agent.ts";
import { captureSealedSignature } from "../palm-capture.ts";
import { describeFlowState, whenShowingResult } from "./flow-driver.ts";
import type { FlowResult } from "./flow-result.ts";
import { gateMachine, type EntryAnswer } from "./gate-machine.ts";
import { answerStepUp, readStepUpDigits } from "./step-up.ts";

export interface GateLaneOptions {
  /** How long a result stays on the display before the next person (default RESULT_SHOWN_MS). */
  readonly resultShownMs?: number;
  readonly agent: DeviceAgent;
  readonly sensor: PalmSensor;
  readonly extractor: SignatureExtractor;
  readonly relay: GateRelay;
  readonly display: Display;
  readonly keypad?: Keypad;
  readonly venueId: string;
  readonly gateId: string;
}

export class GateLane {
  readonly actor: Actor<typeof gateMachine>;
  readonly #agent: DeviceAgent;

  constructor(options: GateLaneOptions) {
    const { agent, sensor, extractor, relay, display, keypad, venueId, gateId } = options;
    agent.requireMode("gate");
    this.#agent = agent;
    const clock = agent.clock;
    const machine = gateMachine.provide({
      ...(options.resultShownMs !== undefined ? { delays: { resultShown: options.resultShownMs } } : {}),
      actors: {
        capture: fromPromise(async ({ signal }) => captureSealedSignature(sensor, extractor, await (await agent.online()).captureSeal(), signal)),
        requestEntry: fromPromise(async ({ input }): Promise<EntryAnswer> => {
          const answer = await (await agent.online()).enterGate({
            venueId,
            gateId,
            sealedSignature: input.sealed,
            ...(input.stepUpToken !== undefined ? { stepUpToken: input.stepUpToken } : {}),
          });
          const latencyMs = clock.now() - input.handAt;
          if (answer.outcome === "open") {
            const label = answer.entitlement?.label ?? "";
            return { kind: "open", requestId: answer.requestId, openForMs: answer.openForMs ?? 3_000, text: `Welcome${label ? `: ${label}` : ""}`, latencyMs };
          }
          const notRecognised: EntryAnswer = { kind: "refused", result: { kind: "not-identified", text: "Palm not recognised: please see staff", latencyMs } };
          if (answer.outcome === "no-match") return notRecognised;
          if (answer.outcome === "step-up-required")
            return keypad !== undefined && answer.stepUpToken !== undefined ? { kind: "step-up", stepUpToken: answer.stepUpToken } : notRecognised;
          return { kind: "refused", result: { kind: "denied", text: `Entry denied: ${answer.reason ?? "no entitlement"}`, latencyMs } };
        }),
        readDigits: fromPromise(async ({ signal }) => {
          if (keypad === undefined) throw new Error("this gate has no keypad");
          return { phoneDigits: await readStepUpDigits(keypad, signal) };
        }),
        answerDigits: fromPromise(async ({ input, signal }) => answerStepUp(agent, signal, input.stepUpToken, input.phoneDigits)),
        openRelay: fromPromise(async ({ input }) => {
          const passed = await relay.open(input.openForMs);
          // The ticket is spent only on a real passage; the region hears it either way.
          (await agent.online()).reportPassage({ requestId: input.requestId, gateId, passed, at: clock.now() });
          return passed;
        }),
      },
    });
    this.actor = createActor(machine, agent.flowActorOptions("gate"));
    this.actor.subscribe((s) => display.show(describeFlowState(s.value, s.context.result)));
    this.actor.start();
  }

  presentHand(): Promise<FlowResult> {
    this.#agent.requireMode("gate");
    this.actor.send({ type: "HAND_PRESENTED", at: this.#agent.clock.now() });
    return whenShowingResult(this.actor);
  }

  withdrawHand(): void {
    this.actor.send({ type: "HAND_WITHDRAWN" });
  }

  stop(): void {
    this.actor.stop();
  }
}
