// Why image bytes could not become a palm image. A tagged error, so a sensor or an evaluation can
// count bad files by reason instead of crashing on them.
import { Data } from "effect";

export type ImageProblem =
  /** Not JPEG, PNG, BMP or TIFF, or a variant of one that palmline does not read. */
  | "unsupported-format"
  /** The file ends before its image does. */
  | "truncated"
  /** A supported format whose bytes cannot be decoded. */
  | "corrupt"
  /** The two channels of one capture have different sizes. */
  | "channel-size-mismatch";

export class InvalidImage extends Data.TaggedError("InvalidImage")<{ readonly reason: ImageProblem; readonly detail: string }> {
  override get message() {
    return `invalid image (${this.reason}): ${this.detail}`;
  }
}
