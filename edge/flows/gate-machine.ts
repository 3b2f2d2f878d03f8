// Entry at a gate, as an XState machine:
//
//   idle --HAND--> capturing --> checking --open--> opening (relay, passage reported) --> showingResult --> idle
//                     | withdrawn/failed   \--denied / no match / timeout-----------------^
//
//   checking --step-up asked--> enteringDigits --> confirmingDigits --confirmed--> checking (with the token)
//                                                    | digits matched nobody: reenteringDigits; refused / timeout: showingResult
import { assign, fromPromise, setup } from "xstate";
import { CAPTURE_TIMEOUT_MS, errorText, failedCapture, RESULT_SHOWN_MS, type FlowResult } from "./flow-result.ts";
import { STEP_UP_ANSWER_TIMEOUT_MS, STEP_UP_DIGITS_WAIT_MS, type StepUpOutcome } from "./step-up.ts";

export const ENTRY_TIMEOUT_MS = 5_000;
export const RELAY_TIMEOUT_MS = 15_000;

export interface GateContext {
  readonly sealed: Uint8Array | undefined;
  readonly handAt: number;
  /** The region's decision while the relay is open: request id and how long to open. */
  readonly opening: { readonly requestId: string; readonly openForMs: number; readonly text: string; readonly latencyMs: number } | undefined;
  /** A step-up the region asked for, until it is answered for or given up. */
  readonly stepUpToken: string | undefined;
  /** The phone digits, only between the keypad and the region's answer (the name keeps them out of the inspector). */
  readonly phoneDigits: string | undefined;
  readonly result: FlowResult | undefined;
}

export type GateEvent = { type: "HAND_PRESENTED"; at: number } | { type: "HAND_WITHDRAWN" };

export type EntryAnswer =
  | { kind: "open"; requestId: string; openForMs: number; text: string; latencyMs: number }
  | { kind: "refused"; result: FlowResult }
  | { kind: "step-up"; stepUpToken: string };

const notConfirmed: FlowResult = { kind: "not-identified", text: "Palm not confirmed: please see staff" };

export const gateMachine = setup({
  types: { context: {} as GateContext, events: {} as GateEvent },
  actors: {
    capture: fromPromise<Uint8Array>(async () => {
      throw new Error("capture must be provided");
    }),
    readDigits: fromPromise<{ phoneDigits: string }>(async () => {
      throw new Error("readDigits must be provided");
    }),
    answerDigits: fromPromise<StepUpOutcome, { stepUpToken: string; phoneDigits: string }>(async () => {
      throw new Error("answerDigits must be provided");
    }),
    requestEntry: fromPromise<EntryAnswer, { sealed: Uint8Array; handAt: number; stepUpToken: string | undefined }>(async () => {
      throw new Error("requestEntry must be provided");
    }),
    openRelay: fromPromise<boolean, { requestId: string; openForMs: number }>(async () => {
      throw new Error("openRelay must be provided");
    }),
  },
  delays: {
    captureTimeout: CAPTURE_TIMEOUT_MS,
    entryTimeout: ENTRY_TIMEOUT_MS,
    relayTimeout: RELAY_TIMEOUT_MS,
    resultShown: RESULT_SHOWN_MS,
    digitsWait: STEP_UP_DIGITS_WAIT_MS,
    digitsAnswerTimeout: STEP_UP_ANSWER_TIMEOUT_MS,
  },
}).createMachine({
  id: "gate",
  context: { sealed: undefined, handAt: 0, opening: undefined, stepUpToken: undefined, phoneDigits: undefined, result: undefined },
  initial: "idle",
  states: {
    idle: {
      entry: assign({ sealed: undefined, opening: undefined, stepUpToken: undefined, phoneDigits: undefined, result: undefined }),
      on: { HAND_PRESENTED: { target: "capturing", actions: assign({ handAt: ({ event }) => event.at }) } },
    },
    capturing: {
      invoke: {
        src: "capture",
        onDone: { target: "checking", actions: assign({ sealed: ({ event }) => event.output }) },
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => failedCapture(event.error) }) },
      },
      on: { HAND_WITHDRAWN: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Hand withdrawn" } }) } },
      after: { captureTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "Could not read the palm in time" } }) } },
    },
    checking: {
      invoke: {
        src: "requestEntry",
        input: ({ context }) => ({ sealed: context.sealed!, handAt: context.handAt, stepUpToken: context.stepUpToken }),
        onDone: [
          // Only the first answer may ask: an entry request carrying a confirmed token is answered outright.
          {
            guard: ({ context, event }) => event.output.kind === "step-up" && context.stepUpToken === undefined,
            target: "enteringDigits",
            actions: assign({ stepUpToken: ({ event }) => (event.output.kind === "step-up" ? event.output.stepUpToken : undefined) }),
          },
          {
            guard: ({ event }) => event.output.kind === "open",
            target: "opening",
            actions: assign({ sealed: undefined, opening: ({ event }) => (event.output.kind === "open" ? event.output : undefined) }),
          },
          { target: "showingResult", actions: assign({ result: ({ event }) => (event.output.kind === "refused" ? event.output.result : notConfirmed) }) },
        ],
        onError: {
          target: "showingResult",
          actions: assign({ result: ({ event }) => ({ kind: "failed", text: `No answer: ${String((event.error as Error)?.message ?? event.error)}` }) }),
        },
      },
      after: { entryTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer: please ask staff" } }) } },
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
      after: { digitsWait: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No digits entered: please see staff" } }) } },
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
      after: { digitsWait: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No digits entered: please see staff" } }) } },
    },
    confirmingDigits: {
      invoke: {
        src: "answerDigits",
        input: ({ context }) => ({ stepUpToken: context.stepUpToken!, phoneDigits: context.phoneDigits! }),
        onDone: [
          { guard: ({ event }) => event.output === "confirmed", target: "checking", actions: assign({ phoneDigits: undefined }) },
          { guard: ({ event }) => event.output === "retry", target: "reenteringDigits", actions: assign({ phoneDigits: undefined }) },
          { target: "showingResult", actions: assign({ phoneDigits: undefined, result: notConfirmed }) },
        ],
        onError: {
          target: "showingResult",
          actions: assign({ phoneDigits: undefined, result: ({ event }) => ({ kind: "failed", text: `No answer: ${errorText(event.error)}` }) }),
        },
      },
      after: {
        digitsAnswerTimeout: {
          target: "showingResult",
          actions: assign({ phoneDigits: undefined, result: { kind: "timed-out", text: "No answer: please ask staff" } }),
        },
      },
    },
    opening: {
      invoke: {
        src: "openRelay",
        input: ({ context }) => ({ requestId: context.opening!.requestId, openForMs: context.opening!.openForMs }),
        onDone: {
          target: "showingResult",
          actions: assign({ result: ({ context }) => ({ kind: "open", text: context.opening!.text, latencyMs: context.opening!.latencyMs }) }),
        },
        onError: { target: "showingResult", actions: assign({ result: { kind: "failed", text: "The gate did not open: please ask staff" } }) },
      },
      after: { relayTimeout: { target: "showingResult", actions: assign({ result: { kind: "failed", text: "The gate did not report: please ask staff" } }) } },
    },
    showingResult: {
      entry: assign({ sealed: undefined, opening: undefined, stepUpToken: undefined, phoneDigits: undefined }),
      after: { resultShown: "idle" },
    },
  },
});
