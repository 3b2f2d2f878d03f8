// A region restored from a backup holds what the backup held: people deleted since then are live
// in it again, and people enrolled since then are missing. Until it has re-synced with a peer it
// must not decide who a palm belongs to: it could approve a deleted person's payment, or let a
// palm enrolled elsewhere enroll twice. The hold is set when the operator starts the node with
// --restored, or when a peer's hello shows the peer has applied more of this region's feed than
// this region has (what a restore looks like from outside); it is released once an anti-entropy
// round with a peer finds their live registries equal (peers keep every tombstone, so that round
// has carried the deletions back).
import { Data } from "effect";

export class RegionResyncing extends Data.TaggedError("RegionResyncing")<{ readonly reason: string }> {
  override get message() {
    return `this region is re-syncing with its peers (${this.reason}): identification resumes once it has`;
  }
}

export class ResyncHold {
  #reason: string | undefined;

  constructor(reason?: string) {
    this.#reason = reason;
  }

  get held(): boolean {
    return this.#reason !== undefined;
  }

  /** Holds identification back; answers whether it was free before. */
  hold(reason: string): boolean {
    const wasFree = this.#reason === undefined;
    this.#reason ??= reason;
    return wasFree;
  }

  /** Lets identification go on; answers whether it was held. */
  release(): boolean {
    const wasHeld = this.#reason !== undefined;
    this.#reason = undefined;
    return wasHeld;
  }

  /** Fails while held: what every decision about a palm asks first. */
  check(): void {
    if (this.#reason !== undefined) throw new RegionResyncing({ reason: this.#reason });
  }
}
