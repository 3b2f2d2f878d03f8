// One-time codes for a phone number at enrollment. Only a hash of each code is kept, in memory,
// with an expiry on the node's clock and a few attempts; the SMS gateway is behind an interface
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
const MAX_ATTEMPTS = 5;

const hash = (number: string, code: string) => createHash("sha256").update(`${number}:${code}`).digest("hex");

export class PhoneVerifier {
  readonly #gateway: SmsGateway;
  readonly #clock: Clock;
  readonly #pending = new Map<string, { codeHash: string; expiresAt: number; attempts: number }>();

  constructor(gateway: SmsGateway, clock: Clock) {
    this.#gateway = gateway;
    this.#clock = clock;
  }

  async sendCode(number: string): Promise<void> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    this.#pending.set(number, { codeHash: hash(number, code), expiresAt: this.#clock.now() + PHONE_CODE_TTL_MS, attempts: 0 });
    await this.#gateway.send(number, `Your palmline code is ${code}`);
  }

  /** True once per sent code: a verified code is spent. */
  verify(number: string, code: string): boolean {
    const pending = this.#pending.get(number);
    if (pending === undefined || pending.expiresAt < this.#clock.now() || pending.attempts >= MAX_ATTEMPTS) return false;
    pending.attempts++;
    if (pending.codeHash !== hash(number, code)) return false;
    this.#pending.delete(number);
    return true;
  }
}
