// One-time codes for a phone number (enrollment, the portal's sign-in). Only a hash of each code is
// kept, in memory, with an expiry on the node's clock. Sends and guesses are budgets per window
// that a resend does not refill, counted three ways: per number, per asking device and per source
// address, so neither one scanner, nor many scanners or browsers behind one address, can text
// numbers or guess codes without end. The node keeps one verifier, shared by the kiosk and the
// portal, so a number's budget is one whichever surface asks. The SMS gateway is behind an
// interface (the simulated one keeps an outbox the simulated person reads).
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
/**
 * Sends and guesses per window for one device: a kiosk enrolls a person every minute or two, with
 * a resend or a typo now and then.
 */
export const DEVICE_CODE_SENDS_PER_WINDOW = 12;
export const DEVICE_CODE_GUESSES_PER_WINDOW = 20;
/** Per source address: a few kiosks (or a shop's portal users) behind one NAT address. */
export const ADDRESS_CODE_SENDS_PER_WINDOW = 30;
export const ADDRESS_CODE_GUESSES_PER_WINDOW = 50;

const ASKERS_BEFORE_SWEEP = 10_000;

/** Who asks for a code or makes a guess: the device (absent for the portal) and the source address it came from. */
export interface CodeAsker {
  readonly deviceId?: string;
  readonly address: string;
}

const hash = (number: string, code: string) => createHash("sha256").update(`${number}:${code}`).digest("hex");

/** A number's budget for the current window: a resend does not refill it. */
interface CodeBudget {
  readonly windowStart: number;
  sends: number;
  guesses: number;
  code: { readonly codeHash: string; readonly expiresAt: number } | undefined;
}

/** Sends and guesses one asker (a device, an address) has made in the current window. */
interface AskerBudget {
  readonly windowStart: number;
  sends: number;
  guesses: number;
}

export class PhoneVerifier {
  readonly #gateway: SmsGateway;
  readonly #clock: Clock;
  readonly #budgets = new Map<string, CodeBudget>();
  readonly #askers = new Map<string, AskerBudget>();

  constructor(gateway: SmsGateway, clock: Clock) {
    this.#gateway = gateway;
    this.#clock = clock;
  }

  /**
   * Sends a new code (the previous one no longer counts); false, and nothing sent, once the
   * window's sends are spent for the number, the asking device or its address.
   */
  async sendCode(number: string, asker: CodeAsker): Promise<boolean> {
    const budget = this.#budget(number);
    const askers = this.#askerBudgets(asker);
    if (budget.sends >= CODE_SENDS_PER_WINDOW || askers.some(({ budget: b, limits }) => b.sends >= limits.sends)) return false;
    budget.sends++;
    for (const { budget: b } of askers) b.sends++;
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    budget.code = { codeHash: hash(number, code), expiresAt: this.#clock.now() + PHONE_CODE_TTL_MS };
    await this.#gateway.send(number, `Your palmline code is ${code}`);
    return true;
  }

  /**
   * True once per sent code: a verified code is spent. Every guess counts against the window's
   * budgets of the number, the device and the address; once one is spent, every guess is refused.
   */
  verify(number: string, code: string, asker: CodeAsker): boolean {
    const budget = this.#budget(number);
    const askers = this.#askerBudgets(asker);
    const pending = budget.code;
    if (pending === undefined || pending.expiresAt < this.#clock.now() || budget.guesses >= CODE_GUESSES_PER_WINDOW) return false;
    if (askers.some(({ budget: b, limits }) => b.guesses >= limits.guesses)) return false;
    budget.guesses++;
    for (const { budget: b } of askers) b.guesses++;
    if (pending.codeHash !== hash(number, code)) return false;
    this.#budgets.delete(number);
    return true;
  }

  #askerBudgets(asker: CodeAsker): { budget: AskerBudget; limits: { sends: number; guesses: number } }[] {
    const address = {
      budget: this.#askerBudget(`address:${asker.address}`),
      limits: { sends: ADDRESS_CODE_SENDS_PER_WINDOW, guesses: ADDRESS_CODE_GUESSES_PER_WINDOW },
    };
    if (asker.deviceId === undefined) return [address];
    return [
      address,
      { budget: this.#askerBudget(`device:${asker.deviceId}`), limits: { sends: DEVICE_CODE_SENDS_PER_WINDOW, guesses: DEVICE_CODE_GUESSES_PER_WINDOW } },
    ];
  }

  #askerBudget(key: string): AskerBudget {
    const now = this.#clock.now();
    const current = this.#askers.get(key);
    if (current !== undefined && now - current.windowStart < CODE_WINDOW_MS) return current;
    // Ended windows are forgotten now and then, so many addresses cannot grow the map without end.
    if (this.#askers.size >= ASKERS_BEFORE_SWEEP) for (const [k, b] of this.#askers) if (now - b.windowStart >= CODE_WINDOW_MS) this.#askers.delete(k);
    const fresh: AskerBudget = { windowStart: now, sends: 0, guesses: 0 };
    this.#askers.set(key, fresh);
    return fresh;
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
