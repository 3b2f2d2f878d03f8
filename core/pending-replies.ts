// Request/response correlation over a channel that carries many at once (a region link, a
// shard's worker): each caller waits for the reply that carries its key, for at most a deadline
// on the injected clock; the owner hands replies over as they arrive and fails everyone still
// waiting when its transport goes away.
import type { Clock, TimerHandle } from "./clock.ts";

export interface ReplyDeadline {
  readonly clock: Clock;
  readonly afterMs: number;
  /** What a caller is failed with when no reply came in time. */
  readonly failure: () => unknown;
}

interface Waiting<Reply> {
  readonly reply: Promise<Reply>;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (failure: unknown) => void;
  readonly timer?: { readonly clock: Clock; readonly handle: TimerHandle };
}

export class PendingReplies<Key, Reply> {
  readonly #waiting = new Map<Key, Waiting<Reply>>();

  /** How many keys still wait for a reply. */
  get size(): number {
    return this.#waiting.size;
  }

  /** The reply to `key`. A key already waiting is joined: both callers get its one reply (or failure). */
  expect(key: Key, deadline?: ReplyDeadline): Promise<Reply> {
    const already = this.#waiting.get(key);
    if (already !== undefined) return already.reply;
    let settle!: { resolve: (reply: Reply) => void; reject: (failure: unknown) => void };
    const reply = new Promise<Reply>((resolve, reject) => (settle = { resolve, reject }));
    const timer =
      deadline === undefined
        ? undefined
        : { clock: deadline.clock, handle: deadline.clock.setTimeout(() => this.reject(key, deadline.failure()), deadline.afterMs) };
    this.#waiting.set(key, { reply, ...settle, ...(timer !== undefined ? { timer } : {}) });
    return reply;
  }

  /** Hands the reply to whoever waits for `key`; false when nobody does (late, duplicate or unasked). */
  resolve(key: Key, reply: Reply): boolean {
    const waiting = this.#take(key);
    waiting?.resolve(reply);
    return waiting !== undefined;
  }

  /** Fails whoever waits for `key`; false when nobody does. */
  reject(key: Key, failure: unknown): boolean {
    const waiting = this.#take(key);
    waiting?.reject(failure);
    return waiting !== undefined;
  }

  /** Fails every caller still waiting: the transport went away. */
  rejectAll(failure: unknown): void {
    for (const key of [...this.#waiting.keys()]) this.reject(key, failure);
  }

  #take(key: Key): Waiting<Reply> | undefined {
    const waiting = this.#waiting.get(key);
    if (waiting === undefined) return undefined;
    this.#waiting.delete(key);
    if (waiting.timer !== undefined) waiting.timer.clock.clearTimeout(waiting.timer.handle);
    return waiting;
  }
}
