// Deletes identities nobody has used for two years. The deadline is data, not a timer that must
// survive a restart: the registry's earliest last-seen among live identities says when the next
// expiry is due, one clock timer waits for it, and each firing reads the registry again (last-seen
// may have risen since, through use here or in another region), deletes what is due in bounded
// batches through the deletion desk, and schedules the next deadline. It also sweeps at start,
// so a node that was down for months expires what fell due meanwhile.
//
// Identities with a pending deletion are left to the deletion desk: they are deleted when their
// open payments settle, so they neither count for the next deadline nor get swept again.
//
// Every region sweeps every identity (one must vanish even if the region that enrolled it is
// gone), but an identity enrolled elsewhere falls due here only FOREIGN_EXPIRY_GRACE_MS later:
// its own region normally expires it first, the tombstone arrives by replication, and the person
// gets one message, not one per region.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { expiresAt, expiryCutoff } from "../../core/identity-expiry.ts";
import type { DeletionDesk } from "../sagas/deletion-desk.ts";

/** Identities deleted per batch; between batches the node serves everything else. */
export const EXPIRY_BATCH = 256;
/**
 * The longest one timer waits before the registry is read again. Node timers cannot wait longer
 * than about 24.8 days, and a timer measures elapsed time while deadlines are wall time, so a
 * daily look keeps both honest.
 */
export const EXPIRY_RECHECK_MS = 24 * 60 * 60 * 1000;
/** After a sweep that could not delete what was due, how long until it tries again. */
export const EXPIRY_RETRY_MS = 60_000;

/** How much later than its own region a region expires an identity enrolled elsewhere. */
export const FOREIGN_EXPIRY_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

/** Live identities that expiry is responsible for: not already waiting on a pending deletion. */
const SWEEPABLE = `i.deleted_hlc IS NULL
  AND NOT EXISTS (SELECT 1 FROM deletion_requests d WHERE d.identity_id = i.identity_id AND d.completed_ms IS NULL)`;
/** The deadline: two years after last use, plus the grace for identities enrolled elsewhere. */
const DEADLINE = `i.last_seen_ms + CASE WHEN i.origin_region = :region THEN 0 ELSE ${FOREIGN_EXPIRY_GRACE_MS} END`;
// The first condition is implied by the second; it lets SQLite walk the last-seen index.
const DUE = `${SWEEPABLE} AND i.last_seen_ms <= :cutoff AND ${DEADLINE} <= :cutoff`;

export interface ExpirySweeperOptions {
  readonly db: DatabaseSync;
  /** This region: identities it enrolled expire on time, others a grace period later. */
  readonly regionId: string;
  readonly deletions: DeletionDesk;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** Told how many identities each batch deleted (the expiry counter). */
  readonly expired?: (count: number) => void;
  readonly batchSize?: number;
}

export class ExpirySweeper {
  readonly #o: ExpirySweeperOptions;
  readonly #batchSize: number;
  readonly #earliestOwn: StatementSync;
  readonly #earliestForeign: StatementSync;
  readonly #due: StatementSync;
  readonly #stillDue: StatementSync;
  #timer: TimerHandle | undefined;
  #sweep: Promise<void> | undefined;
  #again = false;
  #failed = false;
  #running = false;

  constructor(options: ExpirySweeperOptions) {
    this.#o = options;
    this.#batchSize = options.batchSize ?? EXPIRY_BATCH;
    // Both walk the registry's index of live identities by last-seen (identities_live_last_seen)
    // from its start: the next deadline and each batch cost what they return, not a scan.
    this.#earliestOwn = options.db.prepare(`SELECT i.last_seen_ms AS lastSeen FROM identities i WHERE ${SWEEPABLE} AND i.origin_region = :region ORDER BY i.last_seen_ms LIMIT 1`);
    this.#earliestForeign = options.db.prepare(`SELECT i.last_seen_ms AS lastSeen FROM identities i WHERE ${SWEEPABLE} AND i.origin_region <> :region ORDER BY i.last_seen_ms LIMIT 1`);
    this.#due = options.db.prepare(`SELECT i.identity_id AS id FROM identities i WHERE ${DUE} ORDER BY i.last_seen_ms LIMIT :limit`);
    this.#stillDue = options.db.prepare(`SELECT 1 AS due FROM identities i WHERE i.identity_id = :id AND ${DUE}`);
  }

  /** Sweeps what is due now, then keeps sweeping at each deadline until stopped. */
  start(): void {
    this.#running = true;
    this.#fire();
  }

  /** Cancels the timer and waits for a sweep under way to finish its identity. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.settled();
  }

  /** Resolves once no sweep is under way (and none follows at once). */
  async settled(): Promise<void> {
    while (this.#sweep !== undefined) await this.#sweep;
  }

  /** When the next identity expires if nobody uses it, from the registry as it is now. */
  nextExpiry(): number | undefined {
    const own = this.#earliestOwn.get({ region: this.#o.regionId }) as { lastSeen: number } | undefined;
    const foreign = this.#earliestForeign.get({ region: this.#o.regionId }) as { lastSeen: number } | undefined;
    const deadlines = [...(own !== undefined ? [expiresAt(own.lastSeen)] : []), ...(foreign !== undefined ? [expiresAt(foreign.lastSeen) + FOREIGN_EXPIRY_GRACE_MS] : [])];
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    if (this.#sweep !== undefined) {
      this.#again = true;
      return;
    }
    this.#sweep = this.#sweepDue()
      .catch((error: unknown) => {
        this.#failed = true;
        this.#o.log(`expiry sweep failed: ${error instanceof Error ? error.message : String(error)}`);
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
    const now = this.#o.clock.now();
    const next = this.nextExpiry();
    if (next !== undefined && next <= now && !this.#failed) {
      this.#fire(); // fell due while the last sweep ran
      return;
    }
    const wait = this.#failed ? EXPIRY_RETRY_MS : Math.min(next === undefined ? EXPIRY_RECHECK_MS : next - now, EXPIRY_RECHECK_MS);
    this.#failed = false;
    this.#timer = this.#o.clock.setTimeout(() => this.#fire(), wait);
  }

  async #sweepDue(): Promise<void> {
    // Identities whose deletion threw in this sweep: logged and left for the next one, so one
    // bad record neither stops the others nor makes the sweep spin on it.
    const failures = new Set<string>();
    for (;;) {
      const cutoff = expiryCutoff(this.#o.clock.now());
      const rows = this.#due.all({ cutoff, region: this.#o.regionId, limit: this.#batchSize + failures.size }) as { id: string }[];
      const batch = rows.map((r) => r.id).filter((id) => !failures.has(id)).slice(0, this.#batchSize);
      if (batch.length === 0) {
        this.#failed = failures.size > 0;
        return;
      }
      let deleted = 0;
      for (const identityId of batch) {
        if (!this.#running) return;
        try {
          const stillDue = () => this.#stillDue.get({ id: identityId, region: this.#o.regionId, cutoff: expiryCutoff(this.#o.clock.now()) }) !== undefined;
          if ((await this.#o.deletions.expire(identityId, stillDue))?.outcome === "deleted") deleted++;
        } catch (error) {
          failures.add(identityId);
          this.#o.log(`expiry of ${identityId} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (deleted > 0) {
        this.#o.expired?.(deleted);
        this.#o.log(`expiry: ${deleted} identit${deleted === 1 ? "y" : "ies"} unused for two years deleted`);
      }
      // Let the node serve devices between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
