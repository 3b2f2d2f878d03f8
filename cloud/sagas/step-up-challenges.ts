// Step-ups the region has asked for and not yet settled. When the identification policy cannot
// tell from the palm alone (core/identification-policy.ts), the region opens a challenge bound to
// the device and the kind of request, holding the close candidates (which never leave the
// region), and gives the device only an opaque token. The device sends the last four digits of
// the person's phone; they are compared here with each candidate's phone, decrypted from its
// profile, and the policy accepts only one candidate above its floor. A confirmed token is then
// redeemed once by the original request. Tokens expire after STEP_UP_TTL_MS on the node's clock
// and allow the policy's number of answers.
import { randomBytes } from "node:crypto";
import type { Clock } from "../../core/clock.ts";
import type { IdentificationPolicy, StepUpCandidates } from "../../core/identification-policy.ts";

/** The request kinds a step-up can continue; a token only continues the kind that opened it. */
export type StepUpPurpose = "identify" | "payment" | "credential" | "gate";

/** Long enough to read the prompt and type four digits, short enough that a token is not kept. */
export const STEP_UP_TTL_MS = 60_000;

export interface StepUpAnswer {
  readonly outcome: "confirmed" | "retry" | "refused";
  readonly attemptsLeft: number;
}

interface Challenge {
  readonly deviceId: string;
  readonly purpose: StepUpPurpose;
  readonly stepUp: StepUpCandidates;
  readonly expiresAt: number;
  attemptsLeft: number;
  confirmed: string | undefined;
}

export interface StepUpChallengesOptions {
  readonly policy: IdentificationPolicy;
  /** The identity's phone number, decrypted from its profile; undefined when it has none. */
  readonly phoneOf: (identityId: string) => string | undefined;
  readonly clock: Clock;
  readonly ttlMs?: number;
  /** Told of each identity a person confirmed with their digits: a use, like a match. */
  readonly confirmed?: (identityId: string) => void;
}

/** What a step-up asks for: the last four digits of a phone number. */
export const phoneLastFour = (phone: string | undefined): string | undefined => (phone === undefined ? undefined : phone.replace(/[^0-9]/g, "").slice(-4));

export class StepUpChallenges {
  readonly #o: StepUpChallengesOptions;
  readonly #ttlMs: number;
  readonly #open = new Map<string, Challenge>();

  constructor(options: StepUpChallengesOptions) {
    this.#o = options;
    this.#ttlMs = options.ttlMs ?? STEP_UP_TTL_MS;
  }

  /** Opens a challenge for the device; returns the token the device continues it with. */
  open(deviceId: string, purpose: StepUpPurpose, stepUp: StepUpCandidates): string {
    this.#dropExpired();
    const token = randomBytes(16).toString("base64url");
    this.#open.set(token, {
      deviceId,
      purpose,
      stepUp,
      expiresAt: this.#o.clock.now() + this.#ttlMs,
      attemptsLeft: this.#o.policy.attempts,
      confirmed: undefined,
    });
    return token;
  }

  /** The person's answer. Digits that match no close candidate may be tried again while attempts are left. */
  submitDigits(deviceId: string, token: string, digits: string): StepUpAnswer {
    const challenge = this.#live(deviceId, token);
    if (challenge === undefined) return { outcome: "refused", attemptsLeft: 0 };
    if (challenge.confirmed !== undefined || challenge.attemptsLeft <= 0) {
      this.#open.delete(token);
      return { outcome: "refused", attemptsLeft: 0 };
    }
    challenge.attemptsLeft--;
    const resolution = this.#o.policy.resolveStepUp(challenge.stepUp, (identityId) => phoneLastFour(this.#o.phoneOf(identityId)) === digits);
    if (resolution.outcome === "accepted") {
      challenge.confirmed = resolution.identityId;
      this.#o.confirmed?.(resolution.identityId);
      return { outcome: "confirmed", attemptsLeft: challenge.attemptsLeft };
    }
    // Ambiguous or below the floor: other digits cannot make this palm safe to accept.
    if (resolution.reason === "no-candidate" && challenge.attemptsLeft > 0) return { outcome: "retry", attemptsLeft: challenge.attemptsLeft };
    this.#open.delete(token);
    return { outcome: "refused", attemptsLeft: 0 };
  }

  /** The confirmed identity, once: the token is spent whatever the answer. */
  redeem(deviceId: string, token: string, purpose: StepUpPurpose): string | undefined {
    const challenge = this.#live(deviceId, token);
    if (challenge === undefined) return undefined;
    this.#open.delete(token);
    return challenge.purpose === purpose ? challenge.confirmed : undefined;
  }

  /** Challenges still open (operators and tests). */
  get openCount(): number {
    this.#dropExpired();
    return this.#open.size;
  }

  #live(deviceId: string, token: string): Challenge | undefined {
    const challenge = this.#open.get(token);
    if (challenge === undefined) return undefined;
    // Another device's token is not this device's to answer, spend or cancel.
    if (challenge.deviceId !== deviceId) return undefined;
    if (challenge.expiresAt <= this.#o.clock.now()) {
      this.#open.delete(token);
      return undefined;
    }
    return challenge;
  }

  #dropExpired(): void {
    const now = this.#o.clock.now();
    for (const [token, c] of this.#open) if (c.expiresAt <= now) this.#open.delete(token);
  }
}
