// An enrollment kiosk: the enrollment machine bound to the card reader (whose card goes to the
// processor's vault), the keypad, the palm sensor, the display and the device agent's link.
import { createActor, fromPromise, type Actor } from "xstate";
import type { CardReader } from "../../hardware/card-reader.ts";
import type { Display } from "../../hardware/display.ts";
import type { Keypad } from "../../hardware/keypad.ts";
import type { PalmSensor } from "../../hardware/palm-sensor.ts";
import type { SignatureExtractor } from "../biometrics/signature-extractor.ts";
import type { DeviceAgent } from "../device-agent.ts";
import { captureSealedSignature } from "../palm-capture.ts";
import type { CardVaultClient } from "../payments/card-vault-client.ts";
import { enrollmentMachine } from "./enrollment-machine.ts";
import { describeFlowState, whenShowingResult } from "./flow-driver.ts";
import type { FlowResult } from "./flow-result.ts";

export interface EnrollmentKioskOptions {
  /** How long a result stays on the display before the next person (default RESULT_SHOWN_MS). */
  readonly resultShownMs?: number;
  readonly agent: DeviceAgent;
  readonly sensor: PalmSensor;
  readonly extractor: SignatureExtractor;
  readonly cardReader: CardReader;
  readonly keypad: Keypad;
  readonly display: Display;
  readonly vault: CardVaultClient;
}

export class EnrollmentKiosk {
  readonly actor: Actor<typeof enrollmentMachine>;
  readonly #agent: DeviceAgent;

  constructor(options: EnrollmentKioskOptions) {
    const { agent, sensor, extractor, cardReader, keypad, display, vault } = options;
    agent.requireMode("enrollment-kiosk");
    this.#agent = agent;
    const clock = agent.clock;
    const machine = enrollmentMachine.provide({
      ...(options.resultShownMs !== undefined ? { delays: { resultShown: options.resultShownMs } } : {}),
      actors: {
        readCard: fromPromise(async ({ signal }) => {
          const card = await cardReader.read(signal);
          return vault.vault(card, signal);
        }),
        readKeypad: fromPromise(async ({ input, signal }) => (await keypad.read(input.prompt, signal)).trim()),
        sendCode: fromPromise(async ({ input }) => {
          const answer = await (await agent.online()).verifyPhone(input.phone);
          if (answer.outcome !== "sent") throw new Error(answer.reason ?? "refused");
        }),
        captureSeries: fromPromise(async ({ input, signal }) => {
          // One challenge for the series: the captures go to the region in one request.
          const to = await (await agent.online()).captureSeal();
          const sealed: Uint8Array[] = [];
          for (let i = 0; i < input.count; i++) sealed.push(await captureSealedSignature(sensor, extractor, to, signal));
          return sealed;
        }),
        submit: fromPromise(async ({ input }): Promise<FlowResult> => {
          const link = await agent.online();
          const answer = await link.enroll(input.sealed, {
            phone: { number: input.phone, verificationCode: input.code },
            card: {
              processorToken: input.card.vaultToken,
              brand: input.card.brand,
              last4: input.card.last4,
              expiryMonth: input.card.expiryMonth,
              expiryYear: input.card.expiryYear,
            },
            ...(input.loyaltyCard !== undefined ? { loyaltyCard: input.loyaltyCard } : {}),
          });
          const latencyMs = clock.now() - input.handAt;
          if (answer.outcome === "enrolled")
            return { kind: "enrolled", text: `Enrolled: pay with your palm (${input.card.brand.toUpperCase()} ****${input.card.last4})`, latencyMs };
          if (answer.outcome === "already-enrolled") return { kind: "already-enrolled", text: "This palm is already enrolled", latencyMs };
          return { kind: "rejected", text: `Not enrolled: ${answer.reason ?? "rejected"}`, latencyMs };
        }),
      },
    });
    this.actor = createActor(machine, agent.flowActorOptions("enrollment"));
    this.actor.subscribe((s) => display.show(describeFlowState(s.value, s.context.result)));
    this.actor.start();
  }

  /** Starts an enrollment; resolves with the result shown at the end. */
  start(loyaltyCard?: string): Promise<FlowResult> {
    this.#agent.requireMode("enrollment-kiosk");
    this.actor.send({ type: "START", ...(loyaltyCard !== undefined ? { loyaltyCard } : {}) });
    return whenShowingResult(this.actor);
  }

  presentHand(): void {
    this.actor.send({ type: "HAND_PRESENTED", at: this.#agent.clock.now() });
  }

  withdrawHand(): void {
    this.actor.send({ type: "HAND_WITHDRAWN" });
  }

  cancel(): void {
    this.actor.send({ type: "CANCEL" });
  }

  stop(): void {
    this.actor.stop();
  }
}
