// The enrollment saga, one actor per kiosk submission:
//
//   checkingDuplicate --> verifyingPhone --> tokenisingCard --> persisting --> enrolled
//          |                   |                  |                 |
//          v                   v                  v                 v
//   alreadyEnrolled         rejected           rejected          rejected / alreadyEnrolled
//
// The PAN never comes here: the kiosk put the card in the processor's vault and sends the vault
// token, which the processor exchanges for a reusable card-on-file token. Persist writes the
// template with card, phone and loyalty card in one registry commit, then waits for the index.
// Persisting keeps its own deadline (the caller's, cloud/sagas/kiosk-enrollments.ts): an enrollment still queued when it passes is
// withdrawn, one already committing completes, so the answer never says "rejected" for a palm
// that was enrolled.
import { assign, fromPromise, setup } from "xstate";
import type { CardOnFile } from "../payments/processor-adapter.ts";

export type EnrollmentSagaOutput =
  | { readonly outcome: "enrolled"; readonly identityId: string }
  | { readonly outcome: "already-enrolled" }
  | { readonly outcome: "rejected"; readonly reason: string };

interface EnrollmentSagaContext {
  readonly card: CardOnFile | undefined;
  readonly output: EnrollmentSagaOutput | undefined;
}

export const ENROLLMENT_STEP_TIMEOUT_MS = 5_000;

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const tagOf = (error: unknown) => (typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : undefined);

export const enrollmentSaga = setup({
  types: { context: {} as EnrollmentSagaContext, output: {} as EnrollmentSagaOutput },
  actors: {
    checkDuplicate: fromPromise<boolean>(async () => {
      throw new Error("checkDuplicate must be provided");
    }),
    verifyPhone: fromPromise<boolean>(async () => {
      throw new Error("verifyPhone must be provided");
    }),
    tokeniseCard: fromPromise<CardOnFile | undefined>(async () => {
      throw new Error("tokeniseCard must be provided");
    }),
    persist: fromPromise<string, { card: CardOnFile | undefined }>(async () => {
      throw new Error("persist must be provided");
    }),
  },
  delays: { stepTimeout: ENROLLMENT_STEP_TIMEOUT_MS },
}).createMachine({
  id: "enrollmentSaga",
  context: { card: undefined, output: undefined },
  initial: "checkingDuplicate",
  states: {
    checkingDuplicate: {
      invoke: {
        src: "checkDuplicate",
        onDone: [
          { guard: ({ event }) => event.output, target: "done", actions: assign({ output: { outcome: "already-enrolled" } }) },
          { target: "verifyingPhone" },
        ],
        onError: { target: "done", actions: assign({ output: ({ event }) => ({ outcome: "rejected", reason: reasonOf(event.error) }) }) },
      },
      after: { stepTimeout: { target: "done", actions: assign({ output: { outcome: "rejected", reason: "duplicate check timed out" } }) } },
    },
    verifyingPhone: {
      invoke: {
        src: "verifyPhone",
        onDone: [
          { guard: ({ event }) => event.output, target: "tokenisingCard" },
          { target: "done", actions: assign({ output: { outcome: "rejected", reason: "the phone code is wrong or expired" } }) },
        ],
        onError: { target: "done", actions: assign({ output: ({ event }) => ({ outcome: "rejected", reason: reasonOf(event.error) }) }) },
      },
      after: { stepTimeout: { target: "done", actions: assign({ output: { outcome: "rejected", reason: "phone verification timed out" } }) } },
    },
    tokenisingCard: {
      invoke: {
        src: "tokeniseCard",
        onDone: { target: "persisting", actions: assign({ card: ({ event }) => event.output }) },
        onError: {
          target: "done",
          actions: assign({ output: ({ event }) => ({ outcome: "rejected", reason: `card not accepted: ${reasonOf(event.error)}` }) }),
        },
      },
      after: { stepTimeout: { target: "done", actions: assign({ output: { outcome: "rejected", reason: "the payment processor timed out" } }) } },
    },
    persisting: {
      invoke: {
        src: "persist",
        input: ({ context }) => ({ card: context.card }),
        onDone: { target: "done", actions: assign({ output: ({ event }) => ({ outcome: "enrolled", identityId: event.output }) }) },
        onError: {
          target: "done",
          actions: assign({
            output: ({ event }) =>
              tagOf(event.error) === "AlreadyEnrolled"
                ? { outcome: "already-enrolled" }
                : tagOf(event.error) === "EnrollmentWithdrawn"
                  ? { outcome: "rejected", reason: "persisting timed out" }
                  : { outcome: "rejected", reason: reasonOf(event.error) },
          }),
        },
      },
    },
    done: { type: "final" },
  },
  output: ({ context }) => context.output ?? { outcome: "rejected", reason: "no outcome" },
});
