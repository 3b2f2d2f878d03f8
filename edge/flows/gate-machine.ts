// Entry at a gate, as an XState machine:
//
//   idle --HAND--> capturing --> checking --open--> opening (relay, passage reported) --> showingResult --> idle
//                     | withdrawn/failed   \--denied / no match / timeout-----------------^
import { assign, fromPromise, setup } from "xstate";
import { CAPTURE_TIMEOUT_MS, failedCapture, RESULT_SHOWN_MS, type FlowResult } from "./flow-result.ts";

export const ENTRY_TIMEOUT_MS = 5_000;
export const RELAY_TIMEOUT_MS = 15_000;

export interface GateContext {
  readonly sealed: Uint8Array | undefined;
  readonly handAt: number;
  /** The region's decision while the relay is open: request id and how long to open. */
  readonly opening: { readonly requestId: string; readonly openForMs: number; readonly text: string; readonly latencyMs: number } | undefined;
  readonly result: FlowResult | undefined;
}

export type GateEvent = { type: "HAND_PRESENTED"; at: number } | { type: "HAND_WITHDRAWN" };

export type EntryAnswer = { kind: "open"; requestId: string; openForMs: number; text: string; latencyMs: number } | { kind: "refused"; result: FlowResult };

export const gateMachine = setup({
  types: { context: {} as GateContext, events: {} as GateEvent },
  actors: {
    capture: fromPromise<Uint8Array>(async () => {
      throw new Error("capture must be provided");
    }),
    requestEntry: fromPromise<EntryAnswer, { sealed: Uint8Array; handAt: number }>(async () => {
      throw new Error("requestEntry must be provided");
    }),
    openRelay: fromPromise<boolean, { requestId: string; openForMs: number }>(async () => {
      throw new Error("openRelay must be provided");
    }),
  },
  delays: { captureTimeout: CAPTURE_TIMEOUT_MS, entryTimeout: ENTRY_TIMEOUT_MS, relayTimeout: RELAY_TIMEOUT_MS, resultShown: RESULT_SHOWN_MS },
}).createMachine({
  id: "gate",
  context: { sealed: undefined, handAt: 0, opening: undefined, result: undefined },
  initial: "idle",
  states: {
    idle: {
      entry: assign({ sealed: undefined, opening: undefined, result: undefined }),
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
        input: ({ context }) => ({ sealed: context.sealed!, handAt: context.handAt }),
        onDone: [
          { guard: ({ event }) => event.output.kind === "open", target: "opening", actions: assign({ sealed: undefined, opening: ({ event }) => (event.output.kind === "open" ? event.output : undefined) }) },
          { target: "showingResult", actions: assign({ result: ({ event }) => (event.output.kind === "refused" ? event.output.result : { kind: "failed", text: "?" }) }) },
        ],
        onError: { target: "showingResult", actions: assign({ result: ({ event }) => ({ kind: "failed", text: `No answer: ${String((event.error as Error)?.message ?? event.error)}` }) }) },
      },
      after: { entryTimeout: { target: "showingResult", actions: assign({ result: { kind: "timed-out", text: "No answer: please ask staff" } }) } },
    },
    opening: {
      invoke: {
        src: "openRelay",
        input: ({ context }) => ({ requestId: context.opening!.requestId, openForMs: context.opening!.openForMs }),
        onDone: { target: "showingResult", actions: assign({ result: ({ context }) => ({ kind: "open", text: context.opening!.text, latencyMs: context.opening!.latencyMs }) }) },
        onError: { target: "showingResult", actions: assign({ result: { kind: "failed", text: "The gate did not open: please ask staff" } }) },
      },
      after: { relayTimeout: { target: "showingResult", actions: assign({ result: { kind: "failed", text: "The gate did not report: please ask staff" } }) } },
    },
    showingResult: {
      entry: assign({ sealed: undefined, opening: undefined }),
      after: { resultShown: "idle" },
    },
  },
});
