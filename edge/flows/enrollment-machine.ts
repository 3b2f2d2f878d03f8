// Enrollment at a kiosk, as an XState machine:
//
//   idle --START--> readingCard --> enteringPhone --> sendingCode --> enteringCode --> awaitingPalm
//        --HAND--> capturing (>= 3 captures through quality and liveness) --> submitting --> showingResult --> idle
//
// Every waiting state has a deadline; a hand withdrawn while capturing, or CANCEL anywhere,
// ends the flow and forgets everything it collected. The card goes to the processor's vault
// from readingCard; the flow keeps only the vault token and what may be displayed.
import { assign, fromPromise, setup } from "xstate";
import { isPhoneNumber } from "../../protocol/index.ts";
import type { VaultedCard } from "../payments/card-vault-client.ts";
import { CAPTURE_TIMEOUT_MS, errorText, failedCapture, PALM_WAIT_MS, RESULT_SHOWN_MS, type FlowResult } from "./flow-result.ts";

/** One more than the region's minimum of three agreeing captures, so one poor capture is tolerated. */
export const KIOSK_CAPTURES = 4;
export const CARD_WAIT_MS = 60_000;
export const KEYPAD_WAIT_MS = 60_000;
export const REQUEST_TIMEOUT_MS = 15_000;

export interface EnrollmentContext {
  readonly card: VaultedCard | undefined;
  readonly phone: string | undefined;
  readonly code: string | undefined;
  readonly loyaltyCard: string | undefined;
  /** Ciphertexts only (sealed to the region). */
  readonly sealed: readonly Uint8Array[];
  readonly handAt: number;
  readonly result: FlowResult | undefined;
}

export type EnrollmentEvent =
  | { type: "START"; loyaltyCard?: string }
  | { type: "HAND_PRESENTED"; at: number }
  | { type: "HAND_WITHDRAWN" }
  | { type: "CANCEL" };

const forget = { card: undefined, phone: undefined, code: undefined, loyaltyCard: undefined, sealed: [] as readonly Uint8Array[] };
const cancelled = (text: string) => ({ target: "showingResult", actions: [{ type: "conclude", params: { kind: "cancelled", text } }, "forget"] }) as const;
const timedOut = (text: string) => ({ target: "showingResult", actions: [{ type: "conclude", params: { kind: "timed-out", text } }, "forget"] }) as const;
const failed = (prefix: string) => ({ target: "showingResult", actions: [{ type: "concludeError", params: { prefix } }, "forget"] }) as const;

export const enrollmentMachine = setup({
  types: { context: {} as EnrollmentContext, events: {} as EnrollmentEvent },
  actors: {
    readCard: fromPromise<VaultedCard>(async () => {
      throw new Error("readCard must be provided");
    }),
    readKeypad: fromPromise<string, { prompt: string }>(async () => {
      throw new Error("readKeypad must be provided");
    }),
    sendCode: fromPromise<void, { phone: string }>(async () => {
      throw new Error("sendCode must be provided");
    }),
    captureSeries: fromPromise<Uint8Array[], { count: number }>(async () => {
      throw new Error("captureSeries must be provided");
    }),
    submit: fromPromise<
      FlowResult,
      { card: VaultedCard; phone: string; code: string; loyaltyCard: string | undefined; sealed: readonly Uint8Array[]; handAt: number }
    >(async () => {
      throw new Error("submit must be provided");
    }),
  },
  actions: {
    forget: assign(forget),
    conclude: assign((_, params: FlowResult) => ({ result: params })),
    concludeError: assign(({ event }, params: { prefix: string }) => ({
      result: { kind: "failed" as const, text: `${params.prefix}: ${errorText((event as { error?: unknown }).error)}` },
    })),
  },
  delays: {
    cardWait: CARD_WAIT_MS,
    keypadWait: KEYPAD_WAIT_MS,
    palmWait: PALM_WAIT_MS,
    captureTimeout: CAPTURE_TIMEOUT_MS * KIOSK_CAPTURES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    resultShown: RESULT_SHOWN_MS,
  },
}).createMachine({
  id: "enrollment",
  context: { ...forget, handAt: 0, result: undefined },
  initial: "idle",
  on: { CANCEL: { target: ".showingResult", actions: [{ type: "conclude", params: { kind: "cancelled", text: "Enrollment cancelled" } }, "forget"] } },
  states: {
    idle: {
      entry: assign({ ...forget, result: undefined }),
      on: { START: { target: "readingCard", actions: assign({ loyaltyCard: ({ event }) => event.loyaltyCard }) } },
    },
    readingCard: {
      invoke: {
        src: "readCard",
        onDone: { target: "enteringPhone", actions: assign({ card: ({ event }) => event.output }) },
        onError: failed("Card not accepted"),
      },
      after: { cardWait: timedOut("No card presented") },
    },
    enteringPhone: {
      invoke: {
        src: "readKeypad",
        input: { prompt: "phone" },
        onDone: [
          { guard: ({ event }) => isPhoneNumber(event.output), target: "sendingCode", actions: assign({ phone: ({ event }) => event.output }) },
          { target: "showingResult", actions: assign({ result: { kind: "rejected", text: "That is not a phone number (+ and country code)" }, ...forget }) },
        ],
        onError: failed("Phone entry failed"),
      },
      after: { keypadWait: timedOut("No phone number entered") },
    },
    sendingCode: {
      invoke: { src: "sendCode", input: ({ context }) => ({ phone: context.phone! }), onDone: "enteringCode", onError: failed("Could not send the code") },
      after: { requestTimeout: timedOut("Could not send the code in time") },
    },
    enteringCode: {
      invoke: {
        src: "readKeypad",
        input: { prompt: "code" },
        onDone: { target: "awaitingPalm", actions: assign({ code: ({ event }) => event.output }) },
        onError: failed("Code entry failed"),
      },
      after: { keypadWait: timedOut("No code entered") },
    },
    awaitingPalm: {
      on: { HAND_PRESENTED: { target: "capturing", actions: assign({ handAt: ({ event }) => event.at }) } },
      after: { palmWait: timedOut("No palm presented") },
    },
    capturing: {
      invoke: {
        src: "captureSeries",
        input: { count: KIOSK_CAPTURES },
        onDone: { target: "submitting", actions: assign({ sealed: ({ event }) => event.output }) },
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => failedCapture(event.error), ...forget }) },
      },
      on: { HAND_WITHDRAWN: cancelled("Hand withdrawn: enrollment cancelled") },
      after: { captureTimeout: timedOut("Could not read the palm in time") },
    },
    submitting: {
      invoke: {
        src: "submit",
        input: ({ context }) => ({
          card: context.card!,
          phone: context.phone!,
          code: context.code!,
          loyaltyCard: context.loyaltyCard,
          sealed: context.sealed,
          handAt: context.handAt,
        }),
        onDone: { target: "showingResult", actions: assign({ result: ({ event }) => event.output, ...forget }) },
        onError: failed("Enrollment failed"),
      },
      after: { requestTimeout: timedOut("No answer from the region") },
    },
    showingResult: {
      entry: assign(forget),
      after: { resultShown: "idle" },
    },
  },
});
