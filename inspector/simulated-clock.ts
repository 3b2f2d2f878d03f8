// A clock the inspector can pause and step. Running, it follows real time (timers fire when they
// are due); paused, time stands still and "step" jumps to the next timer and fires it, so a
// developer can walk an agent through its timeouts one at a time.
import { ManualClock, type Clock, type TimerHandle } from "../core/clock.ts";

const TICK_MS = 20;

export class SimulatedClock implements Clock {
  readonly #manual: ManualClock;
  #paused = false;
  #lastReal: number;
  #ticker: NodeJS.Timeout | undefined;

  constructor(startMs = Date.now()) {
    this.#manual = new ManualClock(startMs);
    this.#lastReal = performance.now();
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    this.#ticker.unref();
  }

  get paused(): boolean {
    return this.#paused;
  }

  now(): number {
    if (!this.#paused) this.#tick();
    return this.#manual.now();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.#manual.setTimeout(callback, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.#manual.clearTimeout(handle);
  }

  pause(): void {
    this.#tick();
    this.#paused = true;
  }

  resume(): void {
    this.#lastReal = performance.now();
    this.#paused = false;
  }

  /** While paused: moves time to the next timer and fires it. Returns the ms skipped, or undefined when no timer is pending. */
  step(): number | undefined {
    const next = this.#manual.nextDeadline();
    if (next === undefined) return undefined;
    const skipped = Math.max(0, Math.ceil(next - this.#manual.now()));
    this.#manual.advance(skipped);
    return skipped;
  }

  stop(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  // Whole milliseconds, like Date.now(): what devices read goes on the wire as an integer
  // timestamp (a heartbeat's sentAt), and a fraction there is a protocol violation.
  #tick(): void {
    if (this.#paused) return;
    const elapsed = Math.floor(performance.now() - this.#lastReal);
    this.#lastReal += elapsed;
    if (elapsed > 0) this.#manual.advance(elapsed);
  }
}
