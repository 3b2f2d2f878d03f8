// Deletes identities nobody has used for two years. The deadline is data, not a timer that must
// survive a restart: the registry's earliest last-seen among live identities says when the next
// expiry is due, one clock timer waits for it, and each firing reads the registry again (last-seen
// may have risen since, through use here or in another region), deletes what is due in bounded
// batches through Deletions, and schedules the next deadline. It also sweeps at start,
// so a node that was down for months expires what fell due meanwhile.
//
// Identities with a pending deletion are left to Deletions: they are deleted when their
// open payments settle, so they neither count for the next deadline nor get swept again.
//
// Every region sweeps every identity (one must vanish even if the region that enrolled it is
// gone), but an identity enrolled elsewhere falls due here only FOREIGN_EXPIRY_GRACE_MS later:
// its own region normally expires it first, the tombstone arrives by replication, and the person
// gets one message, not one per region.
import { Effect } from "effect";
import type { Clock } from "../../core/clock.ts";
import { expiresAt, expiryCutoff } from "../../core/identity-expiry.ts";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { Deletions } from "../sagas/deletions.ts";
import { DeadlineSweeper } from "./deadline-sweeper.ts";

/** Identities deleted per batch; between batches the node serves everything else. */
export const EXPIRY_BATCH = 256;
/** How much later than its own region a region expires an identity enrolled elsewhere. */
export const FOREIGN_EXPIRY_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

export interface ExpirySweeperOptions {
  /** The registry: its least recently seen identities (own, and enrolled elsewhere) say what is due. */
  readonly registry: Pick<IdentityRegistryShape, "regionId" | "leastRecentlySeen" | "lifecycle">;
  readonly deletions: Deletions;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** Told how many identities each batch deleted (the expiry counter). */
  readonly expired?: (count: number) => void;
  readonly batchSize?: number;
}

export class ExpirySweeper {
  readonly #o: ExpirySweeperOptions;
  readonly #batchSize: number;
  readonly #sweeper: DeadlineSweeper;

  constructor(options: ExpirySweeperOptions) {
    this.#o = options;
    this.#batchSize = options.batchSize ?? EXPIRY_BATCH;
    this.#sweeper = new DeadlineSweeper(
      { name: "expiry sweep", nextDeadline: () => this.nextExpiry(), sweep: (running) => this.#sweepDue(running) },
      options.clock,
      options.log,
    );
  }

  /**
   * Identities due at `cutoff`, least recently seen first: this region's unused since the cutoff,
   * others' since the cutoff less the grace.
   */
  #dueAt(cutoff: number, limit: number): { identityId: string; lastSeenMs: number }[] {
    const { registry } = this.#o;
    const own = Effect.runSync(registry.leastRecentlySeen({ own: true, atMostMs: cutoff, limit }));
    const foreign = Effect.runSync(registry.leastRecentlySeen({ own: false, atMostMs: cutoff - FOREIGN_EXPIRY_GRACE_MS, limit }));
    return [...own, ...foreign].sort((a, b) => a.lastSeenMs - b.lastSeenMs).slice(0, limit);
  }

  /** Sweeps what is due now, then keeps sweeping at each deadline until stopped. */
  start(): void {
    this.#sweeper.start();
  }

  /** Cancels the timer and waits for a sweep under way to finish its identity. */
  stop(): Promise<void> {
    return this.#sweeper.stop();
  }

  /** Resolves once no sweep is under way (and none follows at once). */
  settled(): Promise<void> {
    return this.#sweeper.settled();
  }

  /** One identity's deadline against the cutoff, read now: live, unused since, no deletion waiting. */
  #isDue(identityId: string, cutoff: number): boolean {
    const { registry, deletions } = this.#o;
    const life = Effect.runSync(registry.lifecycle(identityId));
    if (life === undefined || deletions.isPending(identityId)) return false;
    return life.lastSeenMs + (life.originRegion === registry.regionId ? 0 : FOREIGN_EXPIRY_GRACE_MS) <= cutoff;
  }

  /** When the next identity expires if nobody uses it, from the registry as it is now. */
  nextExpiry(): number | undefined {
    const { registry } = this.#o;
    const [own] = Effect.runSync(registry.leastRecentlySeen({ own: true, atMostMs: Number.MAX_SAFE_INTEGER, limit: 1 }));
    const [foreign] = Effect.runSync(registry.leastRecentlySeen({ own: false, atMostMs: Number.MAX_SAFE_INTEGER, limit: 1 }));
    const deadlines = [
      ...(own !== undefined ? [expiresAt(own.lastSeenMs)] : []),
      ...(foreign !== undefined ? [expiresAt(foreign.lastSeenMs) + FOREIGN_EXPIRY_GRACE_MS] : []),
    ];
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  async #sweepDue(running: () => boolean): Promise<{ unfinished: boolean }> {
    // Identities whose deletion threw in this sweep: logged and left for the next one, so one
    // bad record neither stops the others nor makes the sweep spin on it.
    const failures = new Set<string>();
    for (;;) {
      const cutoff = expiryCutoff(this.#o.clock.now());
      const batch = this.#dueAt(cutoff, this.#batchSize + failures.size)
        .map((r) => r.identityId)
        .filter((id) => !failures.has(id))
        .slice(0, this.#batchSize);
      if (batch.length === 0) return { unfinished: failures.size > 0 };
      let deleted = 0;
      // Asked together: Deletions decides them one at a time, and they share the index snapshot
      // that takes their palms off the disk before each is complete.
      await Promise.all(
        batch.map(async (identityId) => {
          try {
            // Read again when its turn comes: it may have been used, here or elsewhere, meanwhile
            // (and a sweeper stopped meanwhile deletes nothing more).
            const stillDue = () => running() && this.#isDue(identityId, expiryCutoff(this.#o.clock.now()));
            if ((await this.#o.deletions.expire(identityId, stillDue))?.outcome === "deleted") deleted++;
          } catch (error) {
            failures.add(identityId);
            this.#o.log(`expiry of ${identityId} failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        }),
      );
      if (!running()) return { unfinished: false };
      if (deleted > 0) {
        this.#o.expired?.(deleted);
        this.#o.log(`expiry: ${deleted} identit${deleted === 1 ? "y" : "ies"} unused for two years deleted`);
      }
      // Let the node serve devices between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
