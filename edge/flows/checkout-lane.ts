// A checkout lane: the checkout machine bound to the palm sensor, the signature extractor, the
// display and the device agent's link. A request that loses its link waits for the agent to
// reconnect and is sent again with the same idempotency key, so the region charges once. The
// receipt shows on approval; the capture follows while it is on the display. When the region asks
// for a step-up, the lane's keypad takes the last four digits of the payer's phone (step-up.ts);
// a lane without a keypad cannot, and says the palm was not recognised.
import { Data } from "effect";
import { createActor, fromPromise, type Actor } from "xstate";
import type { Display } from "../../hardware/display.ts";
import type { Keypad } from "../../hardware/keypad.ts";
import type { PalmSensor } from "../../hardware/palm-sensor.ts";
import type { SignatureExtractor } from "../biometrics/signature-extractor.ts";
import type { DeviceAgent } from "../device-agent.ts";
import { captureSealedSignature } from "../palm-capture.ts";
import { checkoutMachine, type MerchantKind } from "./checkout-machine.ts";
import type { FlowResult } from "./flow-result.ts";
import { describeFlowState, whenShowingResult } from "./flow-driver.ts";
import { onEveryLink } from "./on-every-link.ts";
import { answerStepUp, readStepUpDigits } from "./step-up.ts";

export interface CheckoutLaneOptions {
  /** How long a result stays on the display before the next person (default RESULT_SHOWN_MS). */
  readonly resultShownMs?: number;
  readonly agent: DeviceAgent;
  readonly sensor: PalmSensor;
  readonly extractor: SignatureExtractor;
  readonly display: Display;
  /** For a step-up (the last four digits of the phone); without one a step-up is "not recognised". */
  readonly keypad?: Keypad;
  readonly merchantId: string;
  readonly merchantKind: MerchantKind;
}

/** The authorization was approved but the money could not be taken. */
export class PaymentNotCaptured extends Data.TaggedError("PaymentNotCaptured")<{ readonly reason: string; readonly released: boolean }> {
  override get message() {
    return `${this.reason}; ${this.released ? "nothing was charged, pay another way" : "please see staff"}`;
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);
const money = (amountMinor: number, currency: string) => `${(amountMinor / 100).toFixed(2)} ${currency}`;

export class CheckoutLane {
  readonly actor: Actor<typeof checkoutMachine>;
  readonly #agent: DeviceAgent;

  constructor(options: CheckoutLaneOptions) {
    const { agent, sensor, extractor, display, merchantId, keypad } = options;
    const notRecognised = (latencyMs: number): FlowResult => ({ kind: "not-identified", text: "Palm not recognised: pay another way", latencyMs });
    /** The region's step-up, when the lane can ask for digits. */
    const stepUp = (stepUpToken: string | undefined, latencyMs: number): FlowResult =>
      keypad !== undefined && stepUpToken !== undefined
        ? { kind: "not-identified", text: "Palm not clear enough", latencyMs, stepUpToken }
        : notRecognised(latencyMs);
    agent.requireMode("checkout");
    this.#agent = agent;
    const clock = agent.clock;
    const machine = checkoutMachine.provide({
      ...(options.resultShownMs !== undefined ? { delays: { resultShown: options.resultShownMs } } : {}),
      actors: {
        capture: fromPromise(async ({ signal }) => captureSealedSignature(sensor, extractor, await (await agent.online()).captureSeal(), signal)),
        authorize: fromPromise(async ({ input, signal }): Promise<FlowResult> => {
          const answer = await onEveryLink(agent, signal, (link) =>
            link.authorize({
              idempotencyKey: input.idempotencyKey,
              merchantId,
              amount: input.amount,
              sealedSignature: input.sealed,
              ...(input.stepUpToken !== undefined ? { stepUpToken: input.stepUpToken } : {}),
            }),
          );
          const latencyMs = clock.now() - input.handAt;
          if (answer.outcome === "no-match") return notRecognised(latencyMs);
          if (answer.outcome === "step-up-required") return stepUp(answer.stepUpToken, latencyMs);
          if (answer.outcome === "declined") return { kind: "declined", text: `Declined: ${answer.reason ?? "by the bank"}`, latencyMs };
          if (answer.outcome !== "approved" || answer.authorizationId === undefined)
            return { kind: "failed", text: `Payment failed: ${answer.reason ?? "unknown"}`, latencyMs };
          const authorizationId = answer.authorizationId;
          const card = answer.cardBrand !== undefined ? ` ${answer.cardBrand.toUpperCase()} ****${answer.cardLast4 ?? ""}` : "";
          const loyalty = answer.loyaltyCard !== undefined ? `, loyalty ${answer.loyaltyCard}` : "";
          return {
            kind: "approved",
            text: `Approved ${money(input.amount.amountMinor, input.amount.currency)}${card}${loyalty}`,
            latencyMs,
            handoff: { authorizationId },
          };
        }),
        readDigits: fromPromise(async ({ signal }) => {
          if (keypad === undefined) throw new Error("this lane has no keypad");
          return { phoneDigits: await readStepUpDigits(keypad, signal) };
        }),
        answerDigits: fromPromise(async ({ input, signal }) => answerStepUp(agent, signal, input.stepUpToken, input.phoneDigits)),
        capturePayment: fromPromise(async ({ input, signal }) => {
          const captured = await onEveryLink(agent, signal, (link) => link.settle({ authorizationId: input.authorizationId, action: "capture" }));
          if (captured.outcome === "captured") return;
          // Not captured: release the hold instead of leaving it on the payer's card.
          const voided = await onEveryLink(agent, signal, (link) => link.settle({ authorizationId: input.authorizationId, action: "void" })).catch(
            () => undefined,
          );
          throw new PaymentNotCaptured({ reason: captured.reason ?? captured.outcome, released: voided?.outcome === "voided" });
        }),
        requestCredential: fromPromise(async ({ input, signal }): Promise<FlowResult> => {
          const answer = await onEveryLink(agent, signal, (link) =>
            link.requestCredential({
              merchantId,
              merchantNonce: input.merchantNonce,
              sealedSignature: input.sealed,
              ...(input.stepUpToken !== undefined ? { stepUpToken: input.stepUpToken } : {}),
            }),
          );
          const latencyMs = clock.now() - input.handAt;
          if (answer.outcome === "no-match") return notRecognised(latencyMs);
          if (answer.outcome === "step-up-required") return stepUp(answer.stepUpToken, latencyMs);
          if (answer.outcome !== "issued" || answer.credential === undefined)
            return { kind: "failed", text: `Refused: ${answer.reason ?? "unknown"}`, latencyMs };
          const c = answer.credential;
          // A credential for another checkout (a stale or misrouted answer) would charge the wrong basket.
          if (c.merchantId !== merchantId || !sameBytes(c.merchantNonce, input.merchantNonce))
            return { kind: "failed", text: "Refused: the credential is for another checkout", latencyMs };
          return {
            kind: "credential-issued",
            text: "Palm accepted: finishing payment",
            latencyMs,
            handoff: {
              token: new TextDecoder().decode(c.token),
              merchantId: c.merchantId,
              merchantNonce: Buffer.from(c.merchantNonce).toString("base64url"),
              expiresAt: c.expiresAt,
            },
          };
        }),
      },
    });
    this.actor = createActor(machine, {
      input: { merchantKind: options.merchantKind },
      ...agent.flowActorOptions("checkout"),
    });
    this.actor.subscribe((s) => display.show(describeFlowState(s.value, s.context.result)));
    this.actor.start();
  }

  /**
   * The POS starts a checkout; a third-party POS passes its per-checkout nonce (or the lane makes
   * one), and redeems the credential with it (handoff.merchantNonce, base64url).
   */
  begin(amountMinor: number, currency: string, merchantNonce?: Uint8Array): void {
    this.#agent.requireMode("checkout"); // the mode may have changed since the lane was set up
    this.actor.send({ type: "CHECKOUT", amountMinor, currency, ...(merchantNonce !== undefined ? { merchantNonce } : {}) });
  }

  /** The hand is over the scanner: resolves with what the display shows at the end. */
  presentHand(): Promise<FlowResult> {
    this.actor.send({ type: "HAND_PRESENTED", at: this.#agent.clock.now() });
    return whenShowingResult(this.actor);
  }

  /**
   * Resolves with the final result once the payment is settled: the receipt once captured, or
   * the failure that replaced it. (presentHand resolves as soon as the receipt shows.)
   */
  settled(): Promise<FlowResult> {
    return new Promise((resolve) => {
      const check = () => {
        const s = this.actor.getSnapshot();
        if (s.matches({ showingResult: "shown" }) && s.context.result !== undefined) return (resolve(s.context.result), true);
        return false;
      };
      if (check()) return;
      const sub = this.actor.subscribe(() => {
        if (check()) sub.unsubscribe();
      });
    });
  }

  withdrawHand(): void {
    this.actor.send({ type: "HAND_WITHDRAWN" });
  }

  stop(): void {
    this.actor.stop();
  }
}
