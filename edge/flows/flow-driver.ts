// Small pieces every flow binding shares: waiting for a flow to show its result, and the text a
// display shows for a state.
import type { AnyActorRef } from "xstate";
import type { FlowResult } from "./flow-result.ts";

const PROMPTS: Readonly<Record<string, string>> = {
  idle: "Ready",
  awaitingPalm: "Hold your palm over the scanner",
  capturing: "Reading your palm...",
  authorizing: "Paying...",
  requestingCredential: "Checking...",
  readingCard: "Insert or tap your payment card",
  enteringPhone: "Type your phone number",
  sendingCode: "Sending a code to your phone...",
  enteringCode: "Type the code we sent you",
  submitting: "Enrolling...",
  checking: "Checking...",
  enteringDigits: "Palm not clear enough: type the last 4 digits of your phone number",
  reenteringDigits: "Those digits did not match: type the last 4 digits of your phone number again",
  confirmingDigits: "Checking your digits...",
  opening: "Please go through",
  confirming: "Delete your palm identity? Type YES to confirm",
  requesting: "Sending your request...",
};

/** The top-level state's name ("showingResult" for { showingResult: "capturingPayment" }). */
export const topState = (value: unknown): string => (typeof value === "string" ? value : (Object.keys(value as object)[0] ?? ""));

export const describeFlowState = (value: unknown, result: FlowResult | undefined): string => {
  const state = topState(value);
  if (state === "showingResult" && result !== undefined) return result.text;
  return PROMPTS[state] ?? state;
};

/** Resolves with the flow's result when it reaches showingResult (from any state after now). */
export const whenShowingResult = (actor: AnyActorRef): Promise<FlowResult> =>
  new Promise((resolve) => {
    const check = (snapshot: { value: unknown; context: { result?: FlowResult } }) => {
      if (topState(snapshot.value) === "showingResult" && snapshot.context.result !== undefined) {
        resolve(snapshot.context.result);
        return true;
      }
      return false;
    };
    type Snapshot = { value: unknown; context: { result?: FlowResult } };
    if (check(actor.getSnapshot() as Snapshot)) return;
    const sub = actor.subscribe((s) => {
      if (check(s as Snapshot)) sub.unsubscribe();
    });
  });

/** Resolves when the actor is in the named top-level state. */
export const whenState = (actor: AnyActorRef, state: string): Promise<void> =>
  new Promise((resolve) => {
    const check = (snapshot: { value: unknown }) => {
      if (snapshot.value === state) {
        resolve();
        return true;
      }
      return false;
    };
    if (check(actor.getSnapshot() as { value: unknown })) return;
    const sub = actor.subscribe((s) => {
      if (check(s as { value: unknown })) sub.unsubscribe();
    });
  });
