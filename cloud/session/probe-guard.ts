// Probing: a scanner that keeps presenting palms nobody is enrolled with (or that need a step-up
// it never completes, or wrong phone digits) may be someone searching the registry for a palm
// close enough to pass. Each such failure takes a token from the device's bucket (shared by all
// its sessions); a device with none left is refused identification-bearing requests until the
// bucket refills, and is reported: a log line naming it, and a per-device counter on /metrics.
// Genuine devices see some failures too (a customer who never enrolled), hence a burst allowance
// and a refill well above an honest lane's or gate's rate.
import type { Clock } from "../../core/clock.ts";
import { TokenBucket, type RateLimit } from "../../protocol/token-bucket.ts";
import { Data } from "effect";

/**
 * 30 failures at once, then one every 10 s (360 an hour): a busy gate where someone unenrolled
 * tries every half minute never reaches it. A prober needs about 1/FPIR = 10^4 attempts for one
 * false accept at the policy's target: more than a day of this device's allowance, reported the
 * moment the burst is spent.
 */
export const DEFAULT_PROBE_LIMIT: RateLimit = { capacity: 30, refillPerSecond: 1 / 10 };

/**
 * For simulations only (the CLI's store, gate and demo): synthetic traffic sends a stranger to
 * every lane every few seconds, which a real device doing that would rightly be limited for.
 */
export const SIMULATION_PROBE_LIMIT: RateLimit = { capacity: 1_000, refillPerSecond: 10 };

export class ProbingLimited extends Data.TaggedError("ProbingLimited")<{ readonly deviceId: string }> {
  override get message() {
    return `too many unrecognised palms from device ${this.deviceId}: identification paused, try again later`;
  }
}

export class ProbeGuard {
  readonly #clock: Clock;
  readonly #limit: RateLimit;
  readonly #log: (line: string) => void;
  readonly #buckets = new Map<string, TokenBucket>();
  /** Requests refused per device since the node started (the operator's counter). */
  readonly refused = new Map<string, number>();
  /** Failures counted per device since the node started. */
  readonly failures = new Map<string, number>();
  readonly #reported = new Set<string>();

  constructor(options: { clock: Clock; log: (line: string) => void; limit?: RateLimit }) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#limit = options.limit ?? DEFAULT_PROBE_LIMIT;
  }

  /** Throws ProbingLimited when the device has used up its failures. */
  check(deviceId: string): void {
    if (this.#bucket(deviceId).available >= 1) {
      this.#reported.delete(deviceId);
      return;
    }
    this.refused.set(deviceId, (this.refused.get(deviceId) ?? 0) + 1);
    if (!this.#reported.has(deviceId)) {
      // Once per episode: a probing device must not flood the log either.
      this.#reported.add(deviceId);
      this.#log(`device ${deviceId} rate-limited: ${this.failures.get(deviceId) ?? 0} unrecognised palms or failed step-ups so far; identification paused`);
    }
    throw new ProbingLimited({ deviceId });
  }

  /** A no-match, a step-up asked for, or digits refused. */
  recordFailure(deviceId: string): void {
    this.failures.set(deviceId, (this.failures.get(deviceId) ?? 0) + 1);
    this.#bucket(deviceId).tryTake();
  }

  #bucket(deviceId: string): TokenBucket {
    let bucket = this.#buckets.get(deviceId);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#clock, this.#limit);
      this.#buckets.set(deviceId, bucket);
    }
    return bucket;
  }
}
