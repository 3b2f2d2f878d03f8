// The capture challenges one device session has issued and not yet seen used. A request that
// carries palm captures is admitted only if every capture is sealed with one challenge from
// this list, unexpired; that challenge is then burnt. So a sealed capture taken from a log, a
// proxy or another device is refused in this session later, in any later session and on any
// other device. The session checks before dispatch; the flows open the captures afterwards.
//
// A challenge is 8 random bytes and 8 bytes of a MAC over them and the device id, under a key
// derived from the region's template secret key: the region can tell, even after a restart,
// that a challenge was issued to this device. That is what admits a payment retried by its key
// with its first capture (whose challenge is spent, or forgotten by a restart): the capture must
// have been made for this device, so no other device's capture can ride on a retry.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
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

const NONCE_BYTES = 8;

/** The key a region's challenges are MACed under, derived from (never equal to) its template secret key. */
export const captureChallengeKey = (keys: TemplateKeyPair): Buffer => createHmac("sha256", keys.secretKey).update("palmline capture challenge").digest();

const mac = (key: Buffer, deviceId: string, nonce: Uint8Array) =>
  createHmac("sha256", key)
    .update(deviceId)
    .update(nonce)
    .digest()
    .subarray(0, CAPTURE_CHALLENGE_BYTES - NONCE_BYTES);

export class CaptureChallenges {
  readonly #now: () => number;
  readonly #key: Buffer;
  readonly #keys: TemplateKeyPair;
  /** Hex of each open challenge -> when it expires; insertion order is issue order. */
  readonly #open = new Map<string, number>();

  constructor(options: { now: () => number; keys: TemplateKeyPair }) {
    this.#now = options.now;
    this.#keys = options.keys;
    this.#key = captureChallengeKey(options.keys);
  }

  issue(deviceId: string): { readonly challenge: Uint8Array; readonly expiresAt: number } {
    const nonce = randomBytes(NONCE_BYTES);
    const challenge = new Uint8Array(CAPTURE_CHALLENGE_BYTES);
    challenge.set(nonce);
    challenge.set(mac(this.#key, deviceId, nonce), NONCE_BYTES);
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
  async admit(captures: readonly Uint8Array[]): Promise<void> {
    const challenge = await this.#challengeOf(captures);
    if (challenge === undefined) return;
    const expiresAt = this.#open.get(challenge);
    if (expiresAt === undefined) throw new CaptureChallengeInvalid({ reason: "its challenge was not issued to this session, or was used already" });
    this.#open.delete(challenge);
    if (expiresAt < this.#now()) throw new CaptureChallengeInvalid({ reason: "its challenge expired" });
  }

  /**
   * Admits the captures of a payment retried by its key: their one challenge need not be open
   * (the first attempt spent it), but it must have been issued to this device.
   */
  async admitRetry(captures: readonly Uint8Array[], deviceId: string): Promise<void> {
    const challenge = await this.#challengeOf(captures);
    if (challenge === undefined) return;
    const bytes = Buffer.from(challenge, "hex");
    const expected = mac(this.#key, deviceId, bytes.subarray(0, NONCE_BYTES));
    if (!timingSafeEqual(expected, bytes.subarray(NONCE_BYTES))) throw new CaptureChallengeInvalid({ reason: "its challenge was issued to another device" });
  }

  /** Hex of the one challenge all captures carry; undefined for none. */
  async #challengeOf(captures: readonly Uint8Array[]): Promise<string | undefined> {
    if (captures.length === 0) return undefined;
    const seen = new Set<string>();
    for (const sealed of captures) seen.add(Buffer.from(await sealedCaptureChallenge(sealed, this.#keys)).toString("hex"));
    if (seen.size > 1) throw new CaptureChallengeInvalid({ reason: "the captures of one request carry different challenges" });
    return [...seen][0];
  }
}
