// Deletion requested at a device, as an XState machine:
//
//   idle --START--> awaitingPalm --HAND--> capturing --> confirming (YES on the keypad) --> requesting --> showingResult --> idle
//
// Nothing is sent before the person confirms; the region answers deleted, or pending while a
// payment is still open.
import { assign, fromPromise, setup } from "xstate";
import { CAPTURE_TIMEOUT_MS, failedCapture, PALM_WAIT_MS, RESULT_SHOWN_MS, type FlowResult } from "./flow-result.ts";

export const CONFIRM_WAIT_MS = 30_000;
export const DELETION_TIMEOUT_MS = 10_000;

export interface DeletionContext {
  readonly sealed: Uint8Array | undefined;
  readonly handAt: number;
  readonly result: FlowResult | undefined;
}

export type DeletionEvent = { type: "START" } | { type: "HAND_PRESENTED"; at: number } | { type: "HAND_WITHDRAWN" };

export const deletionMachine = setup({
  types: { context: {} as DeletionContext, events: {} as DeletionEvent },
  actors: {
    capture: fromPromise<Uint8Array>(async () => {
      throw new Error("capture must be provided");
    }),
    confirm: fromPromise<boolean>(async () => {
      throw new Error("confirm must be provided");
    }),
    request: fromPromise<FlowResult, { sealed: Uint8Array; handAt: number }>(async () => {
      throw new Error("request must be provided");
    }),
  },
  delays: {
    palmWait: PALM_WAIT_MS,
    captureTimeout: CAPTURE_TIMEOUT_MS,
    confirmWait: CONFIRM_WAIT_MS,
    requestTimeout: DELETION_TIMEOUT_MS,
    resultShown: RESULT_SHOWN_MS,
  },
}).createMachine({
  id: "deletion",
  context: { sealed: undefined, handAt: 0, result: undefined },
  initial: "idle",
  states: {
    idle: {
      entry: assign({ sealed: undefined, result: undefined }),
      on: { START: "awaitingPalm" },
    },
    awaitingPalm: {
      on: { HAND_PRESENTED: { target: "capturing", actions: assign({ handAt: ({ event }) => event.at }) } },
      after: { palmWait: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No palm presented" } }) } },
    },
    capturing: {
      invoke: {
        src: "capture",
        onDone: { target: "confirming", actions: assign({ sealed: ({ event }) => event.output }) },
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => failedCapture(event.error) }) },
      },
      on: { HAND_WITHDRAWN: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Hand withdrawn: nothing was deleted" } }) } },
      after: { captureTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "Could not read the palm in time" } }) } },
    },
    confirming: {
      invoke: {
        src: "confirm",
        onDone: [
          { guard: ({ event }) => event.output, target: "requesting" },
          { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Not confirmed: nothing was deleted" } }) },
        ],
        onError: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Not confirmed: nothing was deleted" } }) },
      },
      after: { confirmWait: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "Not confirmed: nothing was deleted" } }) } },
    },
    requesting: {
      invoke: {
        src: "request",
        input: ({ context }) => ({ sealed: context.sealed!, handAt: context.handAt }),
        onDone: { target: "showingResult", actions: assign({ result: ({ event }) => event.output }) },
        onError: {
          target: "showingResult",
          actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Request failed: ${String((event.error as Error)?.message ?? event.error)}` }) }),
        },
      },
      after: { requestTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer: please try again" } }) } },
    },
    showingResult: {
      entry: assign({ sealed: undefined }),
      after: { resultShown: "idle" },
    },
  },
});
