// Plain identification at a device (a loyalty lookup): palm -> who -> the linked loyalty card.
//
//   idle --HAND--> capturing --> identifying --> showingResult --> idle
import { assign, fromPromise, setup } from "xstate";
import { CAPTURE_TIMEOUT_MS, failedCapture, RESULT_SHOWN_MS, type FlowResult } from "./flow-result.ts";

export const LOOKUP_TIMEOUT_MS = 5_000;

export const lookupMachine = setup({
  types: {
    context: {} as { sealed: Uint8Array | undefined; handAt: number; result: FlowResult | undefined },
    events: {} as { type: "HAND_PRESENTED"; at: number } | { type: "HAND_WITHDRAWN" },
  },
  actors: {
    capture: fromPromise<Uint8Array>(async () => {
      throw new Error("capture must be provided");
    }),
    identify: fromPromise<FlowResult, { sealed: Uint8Array; handAt: number }>(async () => {
      throw new Error("identify must be provided");
    }),
  },
  delays: { captureTimeout: CAPTURE_TIMEOUT_MS, lookupTimeout: LOOKUP_TIMEOUT_MS, resultShown: RESULT_SHOWN_MS },
}).createMachine({
  id: "lookup",
  context: { sealed: undefined, handAt: 0, result: undefined },
  initial: "idle",
  states: {
    idle: {
      entry: assign({ sealed: undefined, result: undefined }),
      on: { HAND_PRESENTED: { target: "capturing", actions: assign({ handAt: ({ event }) => event.at }) } },
    },
    capturing: {
      invoke: {
        src: "capture",
        onDone: { target: "identifying", actions: assign({ sealed: ({ event }) => event.output }) },
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => failedCapture(event.error) }) },
      },
      on: { HAND_WITHDRAWN: { target: "showingResult", actions: assign({ result: { kind: "cancelled", text: "Hand withdrawn" } }) } },
      after: { captureTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "Could not read the palm in time" } }) } },
    },
    identifying: {
      invoke: {
        src: "identify",
        input: ({ context }) => ({ sealed: context.sealed!, handAt: context.handAt }),
        onDone: { target: "showingResult", actions: assign({ result: ({ event }) => event.output }) },
        onError: {
          target: "showingResult",
          actions: assign({ result: ({ event }) => ({ kind: "failed", text: `Lookup failed: ${String((event.error as Error)?.message ?? event.error)}` }) }),
        },
      },
      after: { lookupTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer" } }) } },
    },
    showingResult: {
      entry: assign({ sealed: undefined }),
      after: { resultShown: "idle" },
    },
  },
});
