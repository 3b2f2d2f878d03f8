// The capture challenges one device session has issued and not yet seen used. A request that
// carries palm captures is admitted only if every capture is sealed with one challenge from
// this list, unexpired; that challenge is then burnt. So a sealed capture taken from a log, a
// proxy or another device is refused in this session later, in any later session and on any
// other device. The session checks before dispatch; the flows open the captures afterwards.
import { randomBytes } from "node:crypto";
import { Data } from "effect";
import { CAPTURE_CHALLENGE_BYTES, CAPTURE_CHALLENGE_TTL_MS, sealedCaptureChallenge, type TemplateKeyPair, type WireMessage } from "../../protocol/index.ts";

/** Challenges a session holds at once: a device asks for one per request; the oldest goes first. */
export const MAX_OPEN_CAPTURE_CHALLENGES = 16;

export class CaptureChallengeInvalid extends Data.TaggedError("CaptureChallengeInvalid")<{ readonly reason: string }> {
  override get message() {
    return `capture refused: ${this.reason}; capture the palm again`;
  }
}

/**
 * The captures of a request the region will open. A request with a step-up token is answered
 * for the identity the step-up confirmed; its capture is never opened, so it needs no challenge.
 */
export const capturesOf = (message: WireMessage): readonly Uint8Array[] => {
  switch (message.type) {
    case "enroll.request":
      return message.sealedSignatures;
    case "identify.request":
    case "payment.authorize.request":
    case "payment.credential.request":
    case "gate.entry.request":
      return message.stepUpToken === undefined ? [message.sealedSignature] : [];
    case "deletion.request":
      return [message.sealedSignature];
    default:
      return [];
  }
};

export class CaptureChallenges {
  readonly #now: () => number;
  /** Hex of each open challenge -> when it expires; insertion order is issue order. */
  readonly #open = new Map<string, number>();

  constructor(now: () => number) {
    this.#now = now;
  }

  issue(): { readonly challenge: Uint8Array; readonly expiresAt: number } {
    const challenge = new Uint8Array(randomBytes(CAPTURE_CHALLENGE_BYTES));
    if (this.#open.size >= MAX_OPEN_CAPTURE_CHALLENGES) this.#open.delete(this.#open.keys().next().value!);
    const expiresAt = this.#now() + CAPTURE_CHALLENGE_TTL_MS;
    this.#open.set(Buffer.from(challenge).toString("hex"), expiresAt);
    return { challenge, expiresAt };
  }

  /**
   * Admits the captures (all sealed with one open, unexpired challenge of this session) and burns
   * that challenge; throws CaptureChallengeInvalid otherwise, or SealedSignatureInvalid for a
   * capture that does not open.
   */
  async admit(captures: readonly Uint8Array[], keys: TemplateKeyPair): Promise<void> {
    if (captures.length === 0) return;
    const seen = new Set<string>();
    for (const sealed of captures) seen.add(Buffer.from(await sealedCaptureChallenge(sealed, keys)).toString("hex"));
    if (seen.size > 1) throw new CaptureChallengeInvalid({ reason: "the captures of one request carry different challenges" });
    const [challenge] = seen;
    const expiresAt = this.#open.get(challenge!);
    if (expiresAt === undefined) throw new CaptureChallengeInvalid({ reason: "its challenge was not issued to this session, or was used already" });
    this.#open.delete(challenge!);
    if (expiresAt < this.#now()) throw new CaptureChallengeInvalid({ reason: "its challenge expired" });
  }
}
