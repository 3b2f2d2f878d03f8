// What a scanner does, as an XState machine a developer can read, watch and drive.
//
//   idle --HAND_PRESENTED--> capturing --(enough captures)--> submitting --> showingResult --> idle
//                               |  ^ (enrollment: one more capture)            ^
//                               +--+-- HAND_WITHDRAWN / failure ---------------+
//
// The actions that touch hardware and the network are injected as promise actors, so the same
// machine runs against the simulated sensor, a file-backed one, or real hardware.
import { assign, fromPromise, setup } from "xstate";

export type ScannerMode = "enrollment" | "identification";

export type ScanOutcome =
  | { readonly kind: "identified"; readonly identityId: string; readonly latencyMs: number }
  | { readonly kind: "not-identified"; readonly latencyMs: number }
  | { readonly kind: "enrolled"; readonly identityId: string; readonly latencyMs: number }
  | { readonly kind: "already-enrolled"; readonly latencyMs: number }
  | { readonly kind: "failed"; readonly reason: string };

export interface ScannerAgentContext {
  readonly mode: ScannerMode;
  readonly capturesNeeded: number;
  /** Captures already sealed to the region; ciphertexts only, cleared when the flow ends. */
  readonly sealedCaptures: readonly Uint8Array[];
  readonly startedAt: number;
  readonly lastOutcome: ScanOutcome | undefined;
}

/** `at` is when the hand arrived, on the agent's clock: latency is measured from there. */
export type ScannerAgentEvent = { type: "HAND_PRESENTED"; at: number } | { type: "HAND_WITHDRAWN" };

/** One more than the region's minimum of three agreeing captures, so one poor capture is tolerated. */
export const ENROLLMENT_CAPTURES = 4;

export const RESULT_DISPLAY_MS = 1_500;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const scannerAgentMachine = setup({
  types: {
    context: {} as ScannerAgentContext,
    events: {} as ScannerAgentEvent,
    input: {} as { mode: ScannerMode },
  },
  actors: {
    // Capture one frame, extract its signature, seal it to the region: returns the ciphertext.
    captureSealedSignature: fromPromise<Uint8Array>(async () => {
      throw new Error("captureSealedSignature must be provided");
    }),
    submit: fromPromise<ScanOutcome, { mode: ScannerMode; sealedCaptures: readonly Uint8Array[]; startedAt: number }>(async () => {
      throw new Error("submit must be provided");
    }),
  },
  delays: { resultDisplay: RESULT_DISPLAY_MS },
}).createMachine({
  id: "scannerAgent",
  context: ({ input }) => ({
    mode: input.mode,
    capturesNeeded: input.mode === "enrollment" ? ENROLLMENT_CAPTURES : 1,
    sealedCaptures: [],
    startedAt: 0,
    lastOutcome: undefined,
  }),
  initial: "idle",
  states: {
    idle: {
      entry: assign({ sealedCaptures: [] }),
      on: { HAND_PRESENTED: { target: "capturing", actions: assign({ startedAt: ({ event }) => event.at }) } },
    },
    capturing: {
      invoke: {
        src: "captureSealedSignature",
        onDone: [
          {
            guard: ({ context }) => context.sealedCaptures.length + 1 < context.capturesNeeded,
            target: "capturing",
            reenter: true,
            actions: assign({ sealedCaptures: ({ context, event }) => [...context.sealedCaptures, event.output] }),
          },
          { target: "submitting", actions: assign({ sealedCaptures: ({ context, event }) => [...context.sealedCaptures, event.output] }) },
        ],
        // The capture step already retried what is worth retrying (palm-capture.ts).
        onError: { target: "showingResult", actions: assign({ lastOutcome: ({ event }) => ({ kind: "failed", reason: errorText(event.error) }) }) },
      },
      on: { HAND_WITHDRAWN: { target: "showingResult", actions: assign({ lastOutcome: { kind: "failed", reason: "hand withdrawn" } }) } },
    },
    submitting: {
      invoke: {
        src: "submit",
        input: ({ context }) => ({ mode: context.mode, sealedCaptures: context.sealedCaptures, startedAt: context.startedAt }),
        onDone: { target: "showingResult", actions: assign({ lastOutcome: ({ event }) => event.output }) },
        onError: { target: "showingResult", actions: assign({ lastOutcome: ({ event }) => ({ kind: "failed", reason: errorText(event.error) }) }) },
      },
    },
    showingResult: {
      entry: assign({ sealedCaptures: [] }),
      after: { resultDisplay: "idle" },
    },
  },
});
