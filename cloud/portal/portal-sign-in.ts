// Signing in to the privacy portal: a phone number, a one-time code sent to it, then a short
// session held in an HttpOnly cookie. Only hashes of session tokens are kept, in memory, with an
// expiry on the node's clock; a phone can ask for a few codes per window, no more (phone-verifier.ts).
import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../../core/clock.ts";
import type { PhoneVerifier } from "../phone/phone-verifier.ts";

export const PORTAL_SESSION_TTL_MS = 15 * 60_000;

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

export type SignInOutcome =
  | { readonly kind: "signed-in"; readonly token: string; readonly identityId: string }
  | { readonly kind: "wrong-code" }
  | { readonly kind: "not-enrolled" };

export class PortalSignIn {
  readonly #verifier: PhoneVerifier;
  readonly #clock: Clock;
  readonly #identityByPhone: (phone: string) => string | undefined;
  readonly #sessions = new Map<string, { identityId: string; expiresAt: number }>();

  constructor(options: { verifier: PhoneVerifier; clock: Clock; identityByPhone: (phone: string) => string | undefined }) {
    this.#verifier = options.verifier;
    this.#clock = options.clock;
    this.#identityByPhone = options.identityByPhone;
  }

  /** False when this phone or this address asked too often (the verifier's budgets); the code itself goes out by SMS. */
  requestCode(phone: string, address: string): Promise<boolean> {
    return this.#verifier.sendCode(phone, { address });
  }

  signIn(phone: string, code: string, address: string): SignInOutcome {
    if (!this.#verifier.verify(phone, code, { address })) return { kind: "wrong-code" };
    const identityId = this.#identityByPhone(phone);
    if (identityId === undefined) return { kind: "not-enrolled" };
    const token = randomBytes(32).toString("base64url");
    this.#sessions.set(hashToken(token), { identityId, expiresAt: this.#clock.now() + PORTAL_SESSION_TTL_MS });
    return { kind: "signed-in", token, identityId };
  }

  /** The identity a session token stands for, while it is valid. */
  identityFor(token: string | undefined): string | undefined {
    if (token === undefined) return undefined;
    const key = hashToken(token);
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAt < this.#clock.now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session.identityId;
  }

  signOut(token: string | undefined): void {
    if (token !== undefined) this.#sessions.delete(hashToken(token));
  }

  /** Ends every session of an identity, e.g. once it is deleted. */
  endSessionsOf(identityId: string): void {
    for (const [key, s] of this.#sessions) if (s.identityId === identityId) this.#sessions.delete(key);
  }
}
