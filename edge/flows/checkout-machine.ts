// Checkout at a lane, as an XState machine:
//
//   idle --CHECKOUT(amount from POS)--> awaitingPalm --HAND--> capturing --> authorizing --> showingResult --> idle
//                                         | timeout/CANCEL       | withdrawn/failed    | timeout/failed
//                                         +----------------------+---------------------+--> showingResult
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
import { randomUUID } from "node:crypto";
import { assign, fromPromise, setup } from "xstate";
import { CAPTURE_TIMEOUT_MS, failedCapture, PALM_WAIT_MS, RESULT_SHOWN_MS, type FlowResult } from "./flow-result.ts";

export type MerchantKind = "first-party" | "third-party";

export interface CheckoutContext {
  readonly merchantKind: MerchantKind;
  readonly amount: { readonly amountMinor: number; readonly currency: string } | undefined;
  readonly merchantNonce: Uint8Array | undefined;
  readonly idempotencyKey: string | undefined;
  /** Ciphertext only (sealed to the region), dropped as soon as the request has an answer. */
  readonly sealed: Uint8Array | undefined;
  readonly handAt: number;
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
}

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
    requestCredential: fromPromise<FlowResult, { sealed: Uint8Array; merchantNonce: Uint8Array; handAt: number }>(async () => {
      throw new Error("requestCredential must be provided");
    }),
    capturePayment: fromPromise<void, { authorizationId: string; amount: { readonly amountMinor: number; readonly currency: string } }>(async () => {
      throw new Error("capturePayment must be provided");
    }),
  },
  delays: { palmWait: PALM_WAIT_MS, captureTimeout: CAPTURE_TIMEOUT_MS, authorizationTimeout: AUTHORIZATION_TIMEOUT_MS, paymentCaptureTimeout: AUTHORIZATION_TIMEOUT_MS, resultShown: RESULT_SHOWN_MS },
  guards: {
    thirdParty: ({ context }) => context.merchantKind === "third-party",
    approvedUncaptured: ({ context }) => context.result?.kind === "approved" && typeof context.result.handoff?.authorizationId === "string",
  },
}).createMachine({
  id: "checkout",
  context: ({ input }) => ({ merchantKind: input.merchantKind, amount: undefined, merchantNonce: undefined, idempotencyKey: undefined, sealed: undefined, handAt: 0, result: undefined }),
  initial: "idle",
  states: {
    idle: {
      entry: assign({ amount: undefined, merchantNonce: undefined, idempotencyKey: undefined, sealed: undefined, result: undefined }),
      on: {
        CHECKOUT: {
          target: "awaitingPalm",
          actions: assign({
            amount: ({ event }) => ({ amountMinor: event.amountMinor, currency: event.currency }),
            merchantNonce: ({ event }) => event.merchantNonce,
            // One key per checkout: every retry of this authorization carries it.
            idempotencyKey: () => `co-${randomUUID()}`,
          }),
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
        input: ({ context }) => ({ idempotencyKey: context.idempotencyKey!, amount: context.amount!, sealed: context.sealed!, handAt: context.handAt }),
        onDone: { target: "showingResult", actions: assign({ result: ({ event }) => event.output }) },
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Payment failed: ${String((event.error as Error)?.message ?? event.error)}` }) }) },
      },
      after: { authorizationTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer from the bank: pay another way" } }) } },
    },
    requestingCredential: {
      invoke: {
        src: "requestCredential",
        input: ({ context }) => ({ sealed: context.sealed!, merchantNonce: context.merchantNonce ?? new Uint8Array(16), handAt: context.handAt }),
        onDone: { target: "showingResult", actions: assign({ result: ({ event }) => event.output }) },
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Payment failed: ${String((event.error as Error)?.message ?? event.error)}` }) }) },
      },
      after: { authorizationTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer: pay another way" } }) } },
    },
    showingResult: {
      entry: assign({ sealed: undefined }),
      initial: "deciding",
      states: {
        deciding: { always: [{ guard: "approvedUncaptured", target: "capturingPayment" }, { target: "shown" }] },
        // The receipt is already on the display; the next checkout waits for this to finish.
        capturingPayment: {
          invoke: {
            src: "capturePayment",
            input: ({ context }) => ({ authorizationId: String(context.result!.handoff!.authorizationId), amount: context.amount! }),
            onDone: "shown",
            onError: { target: "shown", actions: assign({ result: ({ context, event }) => notCaptured(context.result, String((event.error as Error)?.message ?? event.error)) }) },
          },
          after: { paymentCaptureTimeout: { target: "shown", actions: assign({ result: ({ context }) => notCaptured(context.result, "no answer from the bank") }) } },
        },
        shown: {
          after: { resultShown: "#checkout.idle" },
          on: { CHECKOUT: { target: "#checkout.awaitingPalm", actions: assign({ amount: ({ event }) => ({ amountMinor: event.amountMinor, currency: event.currency }), merchantNonce: ({ event }) => event.merchantNonce, idempotencyKey: () => `co-${randomUUID()}`, result: undefined }) } },
        },
      },
    },
  },
});
