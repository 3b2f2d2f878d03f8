// Why a frame could not become a palm signature. Each is a tagged error so the scanner's flow can
// react by name (ask the person to hold still, to move closer, or refuse an artefact).
import { Data } from "effect";

/** The frame itself is malformed: wrong buffer sizes, impossible dimensions. */
export class InvalidFrame extends Data.TaggedError("InvalidFrame")<{ readonly reason: string }> {
  override get message() {
    return `invalid palm frame: ${this.reason}`;
  }
}

export type QualityProblem =
  | "no-hand"
  | "underexposed"
  | "overexposed"
  | "low-contrast"
  | "out-of-focus"
  | "palm-not-in-view"
  | "palm-too-small"
  | "fingers-not-apart";

/** The frame is well-formed but not good enough to identify anyone from. */
export class PoorQuality extends Data.TaggedError("PoorQuality")<{
  readonly reason: QualityProblem;
  readonly detail: string;
}> {
  override get message() {
    return `palm capture rejected (${this.reason}): ${this.detail}`;
  }
}

/** The liveness check judged the presentation to be an artefact, not a live palm. */
export class PresentationAttackSuspected extends Data.TaggedError("PresentationAttackSuspected")<{
  readonly score: number;
  readonly tell: string;
}> {
  override get message() {
    return `presentation attack suspected (${this.tell}, liveness ${this.score.toFixed(3)})`;
  }
}
