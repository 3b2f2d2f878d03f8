// How far ahead of this region's clock a replicated stamp may be. Regions' clocks are NTP-kept;
// a stamp further ahead is a broken clock or a forgery, and taken in it would drag this region's
// hybrid logical clock (and every write it stamps afterwards) along into that future.
import { Data } from "effect";
import type { HlcTimestamp } from "../../core/hybrid-logical-clock.ts";

export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export class StampTooFarAhead extends Data.TaggedError("StampTooFarAhead")<{ readonly identityId: string; readonly aheadMs: number }> {
  override get message() {
    return `a stamp of ${this.identityId} is ${Math.round(this.aheadMs / 1000)} s ahead of this region's clock (at most ${MAX_CLOCK_SKEW_MS / 1000} s)`;
  }
}

/** A record's stamps, as stored or as received (before anything in it is opened). */
export interface StampedRecord {
  readonly identityId: string;
  readonly created: HlcTimestamp;
  readonly tombstone?: HlcTimestamp | undefined;
  readonly fields: readonly { readonly stamp: HlcTimestamp }[];
}

const stampsOf = (record: StampedRecord): HlcTimestamp[] => [
  record.created,
  ...(record.tombstone !== undefined ? [record.tombstone] : []),
  ...record.fields.map((f) => f.stamp),
];

/** The record's furthest stamp past now + MAX_CLOCK_SKEW_MS, or undefined when every stamp is within it. */
export const stampTooFarAhead = (record: StampedRecord, nowMs: number): StampTooFarAhead | undefined => {
  const latest = Math.max(...stampsOf(record).map((s) => s.wallMs));
  return latest > nowMs + MAX_CLOCK_SKEW_MS ? new StampTooFarAhead({ identityId: record.identityId, aheadMs: latest - nowMs }) : undefined;
};
