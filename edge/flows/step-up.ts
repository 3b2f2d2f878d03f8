// The scanner's side of a step-up (protocol/messages/step-up.ts): when the region cannot tell
// from the palm alone, the flow asks for the last four digits of the person's phone on the
// keypad, sends them with the region's token, and either continues the original request with the
// confirmed token, asks again (digits that matched nobody, while attempts are left) or gives up.
// The digits live in the flow's context only between the keypad and the answer.
import type { Keypad } from "../../hardware/keypad.ts";
import type { DeviceAgent } from "../device-agent.ts";
import { onEveryLink } from "./on-every-link.ts";

/** The keypad prompt for a step-up. */
export const STEP_UP_PROMPT = "phone-last4";
/** How long the person has to type the four digits. */
export const STEP_UP_DIGITS_WAIT_MS = 30_000;
/** How long the region may take to answer the digits. */
export const STEP_UP_ANSWER_TIMEOUT_MS = 10_000;

export const isPhoneLastFour = (text: string): boolean => /^[0-9]{4}$/.test(text);

export type StepUpOutcome = "confirmed" | "retry" | "refused";

/** Reads the person's four digits; anything else typed is asked for again (not sent, no attempt spent). */
export const readStepUpDigits = async (keypad: Keypad, signal: AbortSignal): Promise<string> => {
  for (;;) {
    const typed = (await keypad.read(STEP_UP_PROMPT, signal)).trim();
    if (isPhoneLastFour(typed)) return typed;
  }
};

/** Sends the digits for the token; a dropped link is retried on the next one. */
export const answerStepUp = async (agent: DeviceAgent, signal: AbortSignal, stepUpToken: string, digits: string): Promise<StepUpOutcome> =>
  (await onEveryLink(agent, signal, (link) => link.submitStepUpDigits(stepUpToken, digits))).outcome;
