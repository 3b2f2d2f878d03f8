// Capture challenges: before a request that carries a palm capture (identify, enroll, payment,
// credential, gate entry, deletion), the device asks its session for a challenge and seals it with
// the capture (protocol/template-seal.ts). The region accepts each challenge once, from the
// session it issued it to, within CAPTURE_CHALLENGE_TTL_MS; a capture sealed to any other is
// refused with CaptureChallengeInvalid, so a sealed capture cannot be sent again later.
import { Schema } from "effect";
import { CAPTURE_CHALLENGE_BYTES } from "../template-seal.ts";
import { exactBytes, RequestId, Timestamp } from "./wire-fields.ts";

/** Long enough for a kiosk's whole enrollment (palm captures, phone code, card) in one request. */
export const CAPTURE_CHALLENGE_TTL_MS = 5 * 60_000;

export const CaptureChallengeRequest = Schema.Struct({
  type: Schema.Literal("capture.challenge.request"),
  requestId: RequestId,
});
export type CaptureChallengeRequest = typeof CaptureChallengeRequest.Type;

export const CaptureChallengeResult = Schema.Struct({
  type: Schema.Literal("capture.challenge.result"),
  requestId: RequestId,
  challenge: exactBytes(CAPTURE_CHALLENGE_BYTES),
  /** On the region's clock: a request sealed to it must arrive before then. */
  expiresAt: Timestamp,
});
export type CaptureChallengeResult = typeof CaptureChallengeResult.Type;

export const captureChallengeMessages = [CaptureChallengeRequest, CaptureChallengeResult] as const;
