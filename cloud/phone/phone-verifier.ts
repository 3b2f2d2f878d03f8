// One-time codes for a phone number (enrollment, the portal's sign-in). Only a hash of each code is
// kept, in memory, with an expiry on the node's clock; each number has a budget of sends and
// guesses per window that a resend does not refill; the SMS gateway is behind an interface
// (the simulated one keeps an outbox the simulated person reads).
import { createHash, randomInt } from "node:crypto";
import type { Clock } from "../../core/clock.ts";

export interface SmsGateway {
  send(number: string, text: string): Promise<void>;
}

/** The simulated gateway: messages land in an outbox, newest last, and optionally a log too. */
export class SimulatedSmsGateway implements SmsGateway {
  readonly outbox: { number: string; text: string }[] = [];
  readonly #echo: ((number: string, text: string) => void) | undefined;

  /** `echo` also shows each message, e.g. so a person trying the demo can read their code. */
  constructor(echo?: (number: string, text: string) => void) {
    this.#echo = echo;
  }

  async send(number: string, text: string): Promise<void> {
    this.outbox.push({ number, text });
    this.#echo?.(number, text);
  }

  lastCodeFor(number: string): string | undefined {
    const message = this.outbox.findLast((m) => m.number === number);
    return message?.text.match(/\b([0-9]{6})\b/)?.[1];
  }
}

export const PHONE_CODE_TTL_MS = 300_000;
/** Codes one number may be sent per window, and wrong guesses it may make per window. */
export const CODE_SENDS_PER_WINDOW = 3;
export const CODE_GUESSES_PER_WINDOW = 5;
export const CODE_WINDOW_MS = 10 * 60_000;

const hash = (number: string, code: string) => createHash("sha256").update(`${number}:${code}`).digest("hex");

/** A number's budget for the current window: a resend does not refill it. */
interface CodeBudget {
  readonly windowStart: number;
  sends: number;
  guesses: number;
  code: { readonly codeHash: string; readonly expiresAt: number } | undefined;
}

export class PhoneVerifier {
  readonly #gateway: SmsGateway;
  readonly #clock: Clock;
  readonly #budgets = new Map<string, CodeBudget>();

  constructor(gateway: SmsGateway, clock: Clock) {
    this.#gateway = gateway;
    this.#clock = clock;
  }

  /** Sends a new code (the previous one no longer counts); false, and nothing sent, once the number's sends for the window are spent. */
  async sendCode(number: string): Promise<boolean> {
    const budget = this.#budget(number);
    if (budget.sends >= CODE_SENDS_PER_WINDOW) return false;
    budget.sends++;
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    budget.code = { codeHash: hash(number, code), expiresAt: this.#clock.now() + PHONE_CODE_TTL_MS };
    await this.#gateway.send(number, `Your palmline code is ${code}`);
    return true;
  }

  /** True once per sent code: a verified code is spent. Every guess counts against the window's budget. */
  verify(number: string, code: string): boolean {
    const budget = this.#budget(number);
    const pending = budget.code;
    if (pending === undefined || pending.expiresAt < this.#clock.now() || budget.guesses >= CODE_GUESSES_PER_WINDOW) return false;
    budget.guesses++;
    if (pending.codeHash !== hash(number, code)) return false;
    this.#budgets.delete(number);
    return true;
  }

  #budget(number: string): CodeBudget {
    const now = this.#clock.now();
    const current = this.#budgets.get(number);
    if (current !== undefined && now - current.windowStart < CODE_WINDOW_MS) return current;
    // A new window: a code still valid from the last one stays usable, with a fresh budget.
    const fresh: CodeBudget = { windowStart: now, sends: 0, guesses: 0, code: current?.code };
    this.#budgets.set(number, fresh);
    return fresh;
  }
}
