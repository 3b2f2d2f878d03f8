// Checkout at a lane, as an XState machine:
//
//   idle --CHECKOUT(amount from POS)--> awaitingPalm --HAND--> capturing --> authorizing --> showingResult --> idle
//                                         | timeout/CANCEL       | withdrawn/failed    | timeout/failed
//                                         +----------------------+---------------------+--> showingResult
//
//   authorizing / requestingCredential --step-up asked--> enteringDigits --> confirmingDigits
//        ^                                                                     |  |  confirmed: again with the
//        +---------------------------------------------------------------------+  |  token (a new idempotency key)
//                                       reenteringDigits <--digits matched nobody-+  refused / timeout --> showingResult
//
//   showingResult: approved --> capturingPayment --captured--> shown --> idle
//                  otherwise ------------------------------->  shown     (capture failed: the
//                                                                          result becomes "failed")
//
// First-party lanes authorize the amount through the region (with one idempotency key per
// checkout, reused on every retry); the receipt is on the display the moment the authorization
// is approved, and the capture runs while it is shown, so the payer never waits for it. A capture
// that fails replaces the receipt with the failure. Third-party lanes ask only for a credential
// bound to the merchant and the POS's nonce, so the amount never leaves the lane.
import { randomBytes, randomUUID } from "node:crypto";
import { assign, fromPromise, setup } from "xstate";
import { CAPTURE_TIMEOUT_MS, errorText, failedCapture, PALM_WAIT_MS, RESULT_SHOWN_MS, type FlowResult } from "./flow-result.ts";
import { STEP_UP_ANSWER_TIMEOUT_MS, STEP_UP_DIGITS_WAIT_MS, type StepUpOutcome } from "./step-up.ts";

export type MerchantKind = "first-party" | "third-party";

export interface CheckoutContext {
  readonly merchantKind: MerchantKind;
  readonly amount: { readonly amountMinor: number; readonly currency: string } | undefined;
  readonly merchantNonce: Uint8Array | undefined;
  readonly idempotencyKey: string | undefined;
  /** Ciphertext only (sealed to the region), dropped as soon as the request has an answer. */
  readonly sealed: Uint8Array | undefined;
  readonly handAt: number;
  /** A step-up the region asked for, until it is answered for or given up. */
  readonly stepUpToken: string | undefined;
  /** The phone digits, only between the keypad and the region's answer (the name keeps them out of the inspector). */
  readonly phoneDigits: string | undefined;
  readonly result: FlowResult | undefined;
}

export type CheckoutEvent =
  | { type: "CHECKOUT"; amountMinor: number; currency: string; merchantNonce?: Uint8Array }
  | { type: "HAND_PRESENTED"; at: number }
  | { type: "HAND_WITHDRAWN" }
  | { type: "CANCEL" };

export interface CheckoutRequest {
  readonly idempotencyKey: string;
  readonly amount: { readonly amountMinor: number; readonly currency: string };
  readonly sealed: Uint8Array;
  readonly handAt: number;
  readonly stepUpToken: string | undefined;
}

/**
 * What a new checkout starts from. One idempotency key per checkout: every retry of its
 * authorization carries it. A POS that brings no nonce gets a fresh one, handed back with the
 * credential: a credential is redeemable only with the nonce of the checkout it was issued for.
 */
const newCheckout = (event: Extract<CheckoutEvent, { type: "CHECKOUT" }>) => ({
  amount: { amountMinor: event.amountMinor, currency: event.currency },
  merchantNonce: event.merchantNonce ?? new Uint8Array(randomBytes(16)),
  idempotencyKey: `co-${randomUUID()}`,
});

const notConfirmed: FlowResult = { kind: "not-identified", text: "Palm not confirmed: pay another way" };

/** An approved payment whose capture failed: the receipt gives way to the failure. */
const notCaptured = (approved: FlowResult | undefined, reason: string): FlowResult => ({
  kind: "failed",
  text: `Payment not completed: ${reason}`,
  ...(approved?.latencyMs !== undefined ? { latencyMs: approved.latencyMs } : {}),
  ...(approved?.handoff !== undefined ? { handoff: approved.handoff } : {}),
});

/** Long enough for the device to reconnect and retry with the same key after a dropped link. */
export const AUTHORIZATION_TIMEOUT_MS = 25_000;

export const checkoutMachine = setup({
  types: {
    context: {} as CheckoutContext,
    events: {} as CheckoutEvent,
    input: {} as { merchantKind: MerchantKind },
  },
  actors: {
    capture: fromPromise<Uint8Array>(async () => {
      throw new Error("capture must be provided");
    }),
    authorize: fromPromise<FlowResult, CheckoutRequest>(async () => {
      throw new Error("authorize must be provided");
    }),
    readDigits: fromPromise<{ phoneDigits: string }>(async () => {
      throw new Error("readDigits must be provided");
    }),
    answerDigits: fromPromise<StepUpOutcome, { stepUpToken: string; phoneDigits: string }>(async () => {
      throw new Error("answerDigits must be provided");
    }),
    requestCredential: fromPromise<FlowResult, { sealed: Uint8Array; merchantNonce: Uint8Array; handAt: number; stepUpToken: string | undefined }>(async () => {
      throw new Error("requestCredential must be provided");
    }),
    capturePayment: fromPromise<void, { authorizationId: string; amount: { readonly amountMinor: number; readonly currency: string } }>(async () => {
      throw new Error("capturePayment must be provided");
    }),
  },
  delays: {
    palmWait: PALM_WAIT_MS,
    captureTimeout: CAPTURE_TIMEOUT_MS,
    authorizationTimeout: AUTHORIZATION_TIMEOUT_MS,
    paymentCaptureTimeout: AUTHORIZATION_TIMEOUT_MS,
    resultShown: RESULT_SHOWN_MS,
    digitsWait: STEP_UP_DIGITS_WAIT_MS,
    digitsAnswerTimeout: STEP_UP_ANSWER_TIMEOUT_MS,
  },
  guards: {
    // Only the first answer may ask: a request that carried a confirmed token is answered outright.
    stepUpAsked: ({ context, event }) => context.stepUpToken === undefined && (event as { output?: FlowResult }).output?.stepUpToken !== undefined,
    thirdParty: ({ context }) => context.merchantKind === "third-party",
    approvedUncaptured: ({ context }) => context.result?.kind === "approved" && typeof context.result.handoff?.authorizationId === "string",
  },
}).createMachine({
  id: "checkout",
  context: ({ input }) => ({
    merchantKind: input.merchantKind,
    amount: undefined,
    merchantNonce: undefined,
    idempotencyKey: undefined,
    sealed: undefined,
    handAt: 0,
    stepUpToken: undefined,
    phoneDigits: undefined,
    result: undefined,
  }),
  initial: "idle",
  states: {
    idle: {
      entry: assign({
        amount: undefined,
        merchantNonce: undefined,
        idempotencyKey: undefined,
        sealed: undefined,
        stepUpToken: undefined,
        phoneDigits: undefined,
        result: undefined,
      }),
      on: {
        CHECKOUT: {
          target: "awaitingPalm",
          actions: assign(({ event }) => newCheckout(event)),
        },
      },
    },
    awaitingPalm: {
      on: {
        HAND_PRESENTED: { target: "capturing", actions: assign({ handAt: ({ event }) => event.at }) },
        CANCEL: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Checkout cancelled" } }) },
      },
      after: { palmWait: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No palm presented: pay another way" } }) } },
    },
    capturing: {
      invoke: {
        src: "capture",
        onDone: [
          { guard: "thirdParty", target: "requestingCredential", actions: assign({ sealed: ({ event }) => event.output }) },
          { target: "authorizing", actions: assign({ sealed: ({ event }) => event.output }) },
        ],
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => failedCapture(event.error) }) },
      },
      on: { HAND_WITHDRAWN: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Hand withdrawn: checkout cancelled" } }) } },
      after: { captureTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "Could not read the palm in time" } }) } },
    },
    authorizing: {
      invoke: {
        src: "authorize",
        input: ({ context }) => ({
          idempotencyKey: context.idempotencyKey!,
          amount: context.amount!,
          sealed: context.sealed!,
          handAt: context.handAt,
          stepUpToken: context.stepUpToken,
        }),
        onDone: [
          { guard: "stepUpAsked", target: "enteringDigits", actions: assign({ stepUpToken: ({ event }) => event.output.stepUpToken }) },
          { target: "showingResult", actions: assign({ result: ({ event }) => event.output }) },
        ],
        onError: {
          target: "showingResult",
          actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Payment failed: ${String((event.error as Error)?.message ?? event.error)}` }) }),
        },
      },
      after: {
        authorizationTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer from the bank: pay another way" } }) },
      },
    },
    requestingCredential: {
      invoke: {
        src: "requestCredential",
        input: ({ context }) => ({
          sealed: context.sealed!,
          merchantNonce: context.merchantNonce!,
          handAt: context.handAt,
          stepUpToken: context.stepUpToken,
        }),
        onDone: [
          { guard: "stepUpAsked", target: "enteringDigits", actions: assign({ stepUpToken: ({ event }) => event.output.stepUpToken }) },
          { target: "showingResult", actions: assign({ result: ({ event }) => event.output }) },
        ],
        onError: {
          target: "showingResult",
          actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Payment failed: ${String((event.error as Error)?.message ?? event.error)}` }) }),
        },
      },
      after: { authorizationTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer: pay another way" } }) } },
    },
    // The step-up: the last four digits of the phone on the keypad, checked by the region.
    enteringDigits: {
      invoke: {
        src: "readDigits",
        onDone: { target: "confirmingDigits", actions: assign({ phoneDigits: ({ event }) => event.output.phoneDigits }) },
        onError: {
          target: "showingResult",
          actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Keypad failed: ${errorText(event.error)}` }) }),
        },
      },
      on: { CANCEL: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Checkout cancelled" } }) } },
      after: { digitsWait: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No digits entered: pay another way" } }) } },
    },
    reenteringDigits: {
      invoke: {
        src: "readDigits",
        onDone: { target: "confirmingDigits", actions: assign({ phoneDigits: ({ event }) => event.output.phoneDigits }) },
        onError: {
          target: "showingResult",
          actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Keypad failed: ${errorText(event.error)}` }) }),
        },
      },
      on: { CANCEL: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Checkout cancelled" } }) } },
      after: { digitsWait: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No digits entered: pay another way" } }) } },
    },
    confirmingDigits: {
      invoke: {
        src: "answerDigits",
        input: ({ context }) => ({ stepUpToken: context.stepUpToken!, phoneDigits: context.phoneDigits! }),
        onDone: [
          // A new attempt with a new idempotency key: the one that asked for the step-up ended there.
          {
            guard: ({ event, context }) => event.output === "confirmed" && context.merchantKind === "third-party",
            target: "requestingCredential",
            actions: assign({ phoneDigits: undefined }),
          },
          {
            guard: ({ event }) => event.output === "confirmed",
            target: "authorizing",
            actions: assign({ phoneDigits: undefined, idempotencyKey: () => `co-${randomUUID()}` }),
          },
          { guard: ({ event }) => event.output === "retry", target: "reenteringDigits", actions: assign({ phoneDigits: undefined }) },
          { target: "showingResult", actions: assign({ phoneDigits: undefined, result: notConfirmed }) },
        ],
        onError: {
          target: "showingResult",
          actions: assign({ phoneDigits: undefined, result: ({ event }) => ({ kind: "failed", text: `Payment failed: ${errorText(event.error)}` }) }),
        },
      },
      after: {
        digitsAnswerTimeout: {
          target: "showingResult",
          actions: assign({ phoneDigits: undefined, result: { kind: "timed-out", text: "No answer: pay another way" } }),
        },
      },
    },
    showingResult: {
      entry: assign({ sealed: undefined, stepUpToken: undefined, phoneDigits: undefined }),
      initial: "deciding",
      states: {
        deciding: { always: [{ guard: "approvedUncaptured", target: "capturingPayment" }, { target: "shown" }] },
        // The receipt is already on the display; the next checkout waits for this to finish.
        capturingPayment: {
          invoke: {
            src: "capturePayment",
            input: ({ context }) => ({ authorizationId: String(context.result!.handoff!.authorizationId), amount: context.amount! }),
            onDone: "shown",
            onError: {
              target: "shown",
              actions: assign({ result: ({ context, event }) => notCaptured(context.result, String((event.error as Error)?.message ?? event.error)) }),
            },
          },
          after: {
            paymentCaptureTimeout: { target: "shown", actions: assign({ result: ({ context }) => notCaptured(context.result, "no answer from the bank") }) },
          },
        },
        shown: {
          after: { resultShown: "#checkout.idle" },
          on: {
            CHECKOUT: {
              target: "#checkout.awaitingPalm",
              actions: assign(({ event }) => ({ ...newCheckout(event), result: undefined })),
            },
          },
        },
      },
    },
  },
});
