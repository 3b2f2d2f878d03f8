// One token bucket per peer identity, shared by all of that peer's sessions, so reconnecting
// does not reset a device's budget. Bounded: the least recently active peers are forgotten first.
import type { Clock } from "../core/clock.ts";
import { TokenBucket, type RateLimit } from "./token-bucket.ts";

export class PeerRateLimits {
  readonly #clock: Clock;
  readonly #limit: RateLimit;
  readonly #maxPeers: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(clock: Clock, limit: RateLimit, maxPeers = 100_000) {
    this.#clock = clock;
    this.#limit = limit;
    this.#maxPeers = maxPeers;
  }

  bucketFor(peerPublicKey: Uint8Array): TokenBucket {
    const key = Buffer.from(peerPublicKey).toString("hex");
    let bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      this.#buckets.delete(key); // re-insert: Map order is our recency order
    } else {
      bucket = new TokenBucket(this.#clock, this.#limit);
      if (this.#buckets.size >= this.#maxPeers) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }

  get size(): number {
    return this.#buckets.size;
  }
}
