// What a flow shows when it ends: a kind a program can check, the line on the display, and the
// time from the hand over the scanner to the answer. It lives in the flow's context only while
// the result is on screen, and is cleared when the flow goes back to idle.
import { PresentationAttackSuspected } from "../biometrics/capture-errors.ts";

export interface FlowResult {
  readonly kind:
    | "approved"
    | "declined"
    | "credential-issued"
    | "identified"
    | "not-identified"
    | "enrolled"
    | "already-enrolled"
    | "rejected"
    | "open"
    | "denied"
    | "deleted"
    | "deletion-pending"
    | "failed"
    | "cancelled"
    | "timed-out";
  readonly text: string;
  readonly latencyMs?: number;
  /** Handed to the POS (third-party credential token, authorization id); never stored. */
  readonly handoff?: Readonly<Record<string, string | number>>;
  /**
   * The region asked for a step-up (phone digits) instead of deciding: the flow goes on to the
   * keypad with this token rather than showing a result.
   */
  readonly stepUpToken?: string;
}

export const RESULT_SHOWN_MS = 3_000;
export const PALM_WAIT_MS = 30_000;
export const CAPTURE_TIMEOUT_MS = 10_000;

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const failedCapture = (error: unknown): FlowResult =>
  error instanceof PresentationAttackSuspected
    ? { kind: "rejected", text: "Not a live palm: please use your own hand" }
    : { kind: "failed", text: `Could not read the palm: ${errorText(error)}` };
