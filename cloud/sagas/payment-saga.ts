// The payment saga, one actor per checkout:
//
//   identifying --match--> authorizing --approved--> approved
//        |                     |  \--declined----> declined
//        no-match / step-up    |  processor timeout / unavailable
//        v                     v
//     noMatch / stepUp      reversing (void whatever the key may have authorized) --> failed
//
// A step-up ends this attempt: the device asks for the phone digits (stepup.digits) and, once
// confirmed, starts a new attempt with the token, which identification answers with the
// confirmed identity.
//
// Third-party checkouts branch to issuingCredential after identification instead: the region
// asks the processor for a single-use credential bound to the merchant and never learns the
// amount. Every waiting state has a deadline on the injected clock. The ledger write that makes
// this exactly-once happens in the steps Payments provides (see payments.ts).
import { assign, fromPromise, setup } from "xstate";
import type { CardReference } from "../identity/identity-fields.ts";
import type { LookupOutcome } from "./palm-lookup.ts";

export interface IdentifiedPayer {
  readonly identityId: string;
  readonly card: CardReference | undefined;
  readonly loyaltyCard: string | undefined;
}

export type PaymentSagaInput =
  | { readonly kind: "authorize"; readonly idempotencyKey: string; readonly merchantId: string; readonly amountMinor: number; readonly currency: string }
  | { readonly kind: "credential"; readonly merchantId: string; readonly merchantNonce: Uint8Array };

export type PaymentSagaOutput =
  | { readonly outcome: "approved"; readonly payer: IdentifiedPayer; readonly authorizationId: string }
  | { readonly outcome: "declined"; readonly payer: IdentifiedPayer; readonly authorizationId: string; readonly reason: string }
  | { readonly outcome: "credential-issued"; readonly payer: IdentifiedPayer; readonly token: string; readonly expiresAt: number }
  | { readonly outcome: "no-match" }
  | { readonly outcome: "step-up-required"; readonly token: string }
  | { readonly outcome: "failed"; readonly reason: string; readonly payer?: IdentifiedPayer };

interface PaymentSagaContext {
  readonly input: PaymentSagaInput;
  readonly payer: IdentifiedPayer | undefined;
  readonly output: PaymentSagaOutput | undefined;
}

export const IDENTIFY_TIMEOUT_MS = 3_000;
export const PROCESSOR_TIMEOUT_MS = 5_000;

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const payerOf = (event: unknown): IdentifiedPayer => {
  const output = (event as { output?: LookupOutcome }).output;
  if (output?.kind !== "identified") throw new Error("no identified payer");
  return output.payer;
};
const isDefinitiveRefusal = (error: unknown) => typeof error === "object" && error !== null && "_tag" in error && error._tag === "ProcessorRefused";

export const paymentSaga = setup({
  types: {
    context: {} as PaymentSagaContext,
    input: {} as PaymentSagaInput,
    output: {} as PaymentSagaOutput,
  },
  actors: {
    identify: fromPromise<LookupOutcome>(async () => {
      throw new Error("identify must be provided");
    }),
    authorize: fromPromise<{ authorizationId: string; status: "approved" | "declined"; declineCode?: string }, { payer: IdentifiedPayer }>(async () => {
      throw new Error("authorize must be provided");
    }),
    reverse: fromPromise<void>(async () => {
      throw new Error("reverse must be provided");
    }),
    issueCredential: fromPromise<{ token: string; expiresAt: number }, { payer: IdentifiedPayer }>(async () => {
      throw new Error("issueCredential must be provided");
    }),
  },
  delays: { identifyTimeout: IDENTIFY_TIMEOUT_MS, processorTimeout: PROCESSOR_TIMEOUT_MS },
  guards: {
    noMatch: ({ event }) => (event as { output?: LookupOutcome }).output?.kind === "no-match",
    stepUp: ({ event }) => (event as { output?: LookupOutcome }).output?.kind === "step-up",
    noCard: ({ event }) => payerOf(event).card === undefined,
    wantsCredential: ({ context }) => context.input.kind === "credential",
  },
}).createMachine({
  id: "paymentSaga",
  context: ({ input }) => ({ input, payer: undefined, output: undefined }),
  initial: "identifying",
  states: {
    identifying: {
      invoke: {
        src: "identify",
        onDone: [
          { guard: "noMatch", target: "done", actions: assign({ output: { outcome: "no-match" } }) },
          {
            guard: "stepUp",
            target: "done",
            actions: assign({ output: ({ event }) => ({ outcome: "step-up-required", token: event.output.kind === "step-up" ? event.output.token : "" }) }),
          },
          {
            guard: "noCard",
            target: "done",
            actions: assign({ payer: ({ event }) => payerOf(event), output: { outcome: "failed", reason: "no card on file for this identity" } }),
          },
          { guard: "wantsCredential", target: "issuingCredential", actions: assign({ payer: ({ event }) => payerOf(event) }) },
          { target: "authorizing", actions: assign({ payer: ({ event }) => payerOf(event) }) },
        ],
        onError: { target: "done", actions: assign({ output: ({ event }) => ({ outcome: "failed", reason: reasonOf(event.error) }) }) },
      },
      after: { identifyTimeout: { target: "done", actions: assign({ output: { outcome: "failed", reason: "identification timed out" } }) } },
    },
    authorizing: {
      invoke: {
        src: "authorize",
        input: ({ context }) => ({ payer: context.payer! }),
        onDone: {
          target: "done",
          actions: assign({
            output: ({ context, event }) =>
              event.output.status === "approved"
                ? { outcome: "approved", payer: context.payer!, authorizationId: event.output.authorizationId }
                : { outcome: "declined", payer: context.payer!, authorizationId: event.output.authorizationId, reason: event.output.declineCode ?? "declined" },
          }),
        },
        onError: [
          {
            guard: ({ event }) => isDefinitiveRefusal(event.error),
            target: "done",
            actions: assign({ output: ({ context, event }) => ({ outcome: "failed", reason: reasonOf(event.error), payer: context.payer! }) }),
          },
          // Unknown whether the charge went through: reverse it by key rather than guess.
          {
            target: "reversing",
            actions: assign({ output: ({ context, event }) => ({ outcome: "failed", reason: reasonOf(event.error), payer: context.payer! }) }),
          },
        ],
      },
      after: {
        processorTimeout: {
          target: "reversing",
          actions: assign({ output: ({ context }) => ({ outcome: "failed", reason: "payment processor timed out", payer: context.payer! }) }),
        },
      },
    },
    reversing: {
      invoke: { src: "reverse", onDone: "done", onError: "done" },
      after: { processorTimeout: "done" },
    },
    issuingCredential: {
      invoke: {
        src: "issueCredential",
        input: ({ context }) => ({ payer: context.payer! }),
        onDone: {
          target: "done",
          actions: assign({
            output: ({ context, event }) => ({
              outcome: "credential-issued",
              payer: context.payer!,
              token: event.output.token,
              expiresAt: event.output.expiresAt,
            }),
          }),
        },
        onError: {
          target: "done",
          actions: assign({ output: ({ context, event }) => ({ outcome: "failed", reason: reasonOf(event.error), payer: context.payer! }) }),
        },
      },
      after: {
        processorTimeout: {
          target: "done",
          actions: assign({ output: ({ context }) => ({ outcome: "failed", reason: "payment processor timed out", payer: context.payer! }) }),
        },
      },
    },
    done: { type: "final" },
  },
  output: ({ context }) => context.output ?? { outcome: "failed", reason: "no outcome" },
});
