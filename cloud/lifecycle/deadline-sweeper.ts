// Work that falls due at deadlines kept as data (an identity's last-seen, an approval's time), not
// as timers that must survive a restart: one clock timer waits for the next deadline the data
// gives, each firing handles what is due and reads the data again, and a sweep runs at start, so a
// node that was down handles what fell due meanwhile. Identity expiry (expiry-sweeper.ts) and
// authorization expiry (authorization-expiry.ts) follow their deadlines this way.
import type { Clock, TimerHandle } from "../../core/clock.ts";

/**
 * The longest one timer waits before the data is read again. Node timers cannot wait longer than
 * about 24.8 days, and a timer measures elapsed time while deadlines are wall time, so a daily
 * look keeps both honest.
 */
export const DEADLINE_RECHECK_MS = 24 * 60 * 60 * 1000;
/** After a sweep that left due work undone (a failure, a party not reached), how long until it tries again. */
export const DEADLINE_RETRY_MS = 60_000;

export interface DeadlineWork {
  /** Names the work in the log line of a failed sweep. */
  readonly name: string;
  /** When the next item falls due, read from the data now; undefined when none waits. */
  readonly nextDeadline: () => number | undefined;
  /** Handles what is due now, while `running()` holds; answers whether some was left undone. */
  readonly sweep: (running: () => boolean) => Promise<{ readonly unfinished: boolean }>;
}

export class DeadlineSweeper {
  readonly #work: DeadlineWork;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  #timer: TimerHandle | undefined;
  #sweep: Promise<void> | undefined;
  /** Fired while a sweep ran: sweep again right after it. */
  #again = false;
  #unfinished = false;
  #running = false;

  constructor(work: DeadlineWork, clock: Clock, log: (line: string) => void) {
    this.#work = work;
    this.#clock = clock;
    this.#log = log;
  }

  /** Handles what is due now, then keeps following the next deadline until stopped. */
  start(): void {
    this.#running = true;
    this.#fire();
  }

  /** Cancels the timer and waits for a sweep under way. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.settled();
  }

  /** Resolves once no sweep is under way (and none follows at once). */
  async settled(): Promise<void> {
    while (this.#sweep !== undefined) await this.#sweep;
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    if (this.#sweep !== undefined) {
      this.#again = true;
      return;
    }
    this.#sweep = this.#work
      .sweep(() => this.#running)
      .then(({ unfinished }) => {
        this.#unfinished = unfinished;
      })
      .catch((error: unknown) => {
        this.#unfinished = true;
        this.#log(`${this.#work.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.#sweep = undefined;
        if (this.#again) {
          this.#again = false;
          this.#fire();
        } else this.#schedule();
      });
  }

  #schedule(): void {
    if (!this.#running) return;
    const now = this.#clock.now();
    const next = this.#work.nextDeadline();
    if (next !== undefined && next <= now && !this.#unfinished) {
      this.#fire(); // fell due while the last sweep ran
      return;
    }
    const wait = this.#unfinished ? DEADLINE_RETRY_MS : Math.min(next === undefined ? DEADLINE_RECHECK_MS : next - now, DEADLINE_RECHECK_MS);
    this.#unfinished = false;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), wait);
  }
}
