// The gate saga, one actor per person at a turnstile: identify -> check entitlement -> open or
// the reason, or a step-up (the gate asks for the phone digits and asks again with the confirmed
// token). A ticket's entry is spent when the gate reports the passage (gate.passage), so a
// person who turns back keeps it.
import { assign, fromPromise, setup } from "xstate";
import type { EntryDecision } from "../entitlements/entitlement-book.ts";
import type { LookupOutcome } from "./palm-lookup.ts";

export type GateSagaOutput =
  | { readonly outcome: "open"; readonly identityId: string; readonly decision: Extract<EntryDecision, { kind: "open" }> }
  | { readonly outcome: "denied"; readonly identityId?: string; readonly reason: string }
  | { readonly outcome: "no-match" }
  | { readonly outcome: "step-up-required"; readonly token: string };

export const GATE_STEP_TIMEOUT_MS = 3_000;

export const gateSaga = setup({
  types: { context: {} as { identityId: string | undefined; output: GateSagaOutput | undefined }, output: {} as GateSagaOutput },
  actors: {
    identify: fromPromise<LookupOutcome>(async () => {
      throw new Error("identify must be provided");
    }),
    checkEntitlement: fromPromise<EntryDecision, { identityId: string }>(async () => {
      throw new Error("checkEntitlement must be provided");
    }),
  },
  delays: { stepTimeout: GATE_STEP_TIMEOUT_MS },
}).createMachine({
  id: "gateSaga",
  context: { identityId: undefined, output: undefined },
  initial: "identifying",
  states: {
    identifying: {
      invoke: {
        src: "identify",
        onDone: [
          { guard: ({ event }) => event.output.kind === "no-match", target: "done", actions: assign({ output: { outcome: "no-match" } }) },
          {
            guard: ({ event }) => event.output.kind === "step-up",
            target: "done",
            actions: assign({ output: ({ event }) => ({ outcome: "step-up-required", token: event.output.kind === "step-up" ? event.output.token : "" }) }),
          },
          {
            target: "checkingEntitlement",
            actions: assign({ identityId: ({ event }) => (event.output.kind === "identified" ? event.output.payer.identityId : undefined) }),
          },
        ],
        onError: { target: "done", actions: assign({ output: { outcome: "denied", reason: "identification failed" } }) },
      },
      after: { stepTimeout: { target: "done", actions: assign({ output: { outcome: "denied", reason: "identification timed out" } }) } },
    },
    checkingEntitlement: {
      invoke: {
        src: "checkEntitlement",
        input: ({ context }) => ({ identityId: context.identityId! }),
        onDone: {
          target: "done",
          actions: assign({
            output: ({ context, event }) =>
              event.output.kind === "open"
                ? { outcome: "open", identityId: context.identityId!, decision: event.output }
                : { outcome: "denied", identityId: context.identityId!, reason: event.output.reason },
          }),
        },
        onError: {
          target: "done",
          actions: assign({ output: ({ context }) => ({ outcome: "denied", identityId: context.identityId!, reason: "entitlement check failed" }) }),
        },
      },
      after: { stepTimeout: { target: "done", actions: assign({ output: { outcome: "denied", reason: "entitlement check timed out" } }) } },
    },
    done: { type: "final" },
  },
  output: ({ context }) => context.output ?? { outcome: "denied", reason: "no outcome" },
});
