// A token bucket on the injected clock: `capacity` tokens of burst, refilled continuously at
// `refillPerSecond`. The channel takes one per inbound frame; a node can also share one bucket
// across all sessions of a device to limit the device rather than the connection.
import type { Clock } from "../core/clock.ts";

export interface RateLimit {
  /** Largest burst, in tokens. */
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export class TokenBucket {
  readonly limit: RateLimit;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;

  constructor(clock: Clock, limit: RateLimit) {
    if (!(limit.capacity > 0) || !(limit.refillPerSecond >= 0)) {
      throw new RangeError(`invalid rate limit ${limit.capacity} / ${limit.refillPerSecond} per second`);
    }
    this.limit = limit;
    this.#clock = clock;
    this.#tokens = limit.capacity;
    this.#updatedAt = clock.now();
  }

  /** Takes `count` tokens if available; false (and nothing taken) otherwise. */
  tryTake(count = 1): boolean {
    this.#refill();
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#updatedAt;
    // A clock that steps backwards must not mint tokens later.
    if (elapsed <= 0) {
      this.#updatedAt = Math.min(this.#updatedAt, now);
      return;
    }
    this.#tokens = Math.min(this.limit.capacity, this.#tokens + (elapsed / 1000) * this.limit.refillPerSecond);
    this.#updatedAt = now;
  }
}

export const describeRateLimit = (limit: RateLimit): string => `${limit.capacity} burst, ${limit.refillPerSecond}/s`;
