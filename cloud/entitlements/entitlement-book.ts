// Who may enter where: event tickets (a venue, a validity window, single or multiple entry) and
// workplace badges (a site, a weekly schedule of opening windows in UTC). Managed through the
// node's HTTP API; a ticket entry is spent only when the gate reports a real passage.
import { randomBytes } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";

/** A weekly window: day 0 = Sunday, minutes since midnight UTC, [from, to). */
export interface WeeklyWindow {
  readonly day: number;
  readonly fromMinute: number;
  readonly toMinute: number;
}

export type EntitlementGrant =
  | { readonly kind: "ticket"; readonly identityId: string; readonly venueId: string; readonly label: string; readonly validFrom: number; readonly validUntil: number; readonly entries: number | null }
  | { readonly kind: "badge"; readonly identityId: string; readonly venueId: string; readonly label: string; readonly validFrom: number; readonly validUntil: number; readonly schedule: readonly WeeklyWindow[] };

export interface Entitlement {
  readonly entitlementId: string;
  readonly identityId: string;
  readonly kind: "ticket" | "badge";
  readonly venueId: string;
  readonly label: string;
  readonly validFrom: number;
  readonly validUntil: number;
  readonly entriesAllowed: number | null;
  readonly entriesUsed: number;
  readonly schedule: readonly WeeklyWindow[] | null;
}

export type EntryDecision = { readonly kind: "open"; readonly entitlement: Entitlement } | { readonly kind: "denied"; readonly reason: string };

const insideSchedule = (schedule: readonly WeeklyWindow[], at: number) => {
  const d = new Date(at);
  const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
  return schedule.some((w) => w.day === d.getUTCDay() && minute >= w.fromMinute && minute < w.toMinute);
};

/** The rules, pure: the most useful reason wins when nothing lets the person in. */
export const decideEntry = (entitlements: readonly Entitlement[], at: number): EntryDecision => {
  if (entitlements.length === 0) return { kind: "denied", reason: "no ticket or badge for this venue" };
  const reasons: string[] = [];
  for (const e of entitlements) {
    if (at < e.validFrom) reasons.push(`${e.kind} not valid yet`);
    else if (at >= e.validUntil) reasons.push(`${e.kind} expired`);
    else if (e.entriesAllowed !== null && e.entriesUsed >= e.entriesAllowed) reasons.push("ticket already used");
    else if (e.schedule !== null && !insideSchedule(e.schedule, at)) reasons.push("outside the badge's schedule");
    else return { kind: "open", entitlement: e };
  }
  return { kind: "denied", reason: reasons[0]! };
};

interface Row {
  entitlement_id: string;
  identity_id: string;
  kind: string;
  venue_id: string;
  label: string;
  valid_from_ms: number;
  valid_until_ms: number;
  entries_allowed: number | null;
  entries_used: number;
  schedule: string | null;
}

const fromRow = (r: Row): Entitlement => ({
  entitlementId: r.entitlement_id,
  identityId: r.identity_id,
  kind: r.kind === "badge" ? "badge" : "ticket",
  venueId: r.venue_id,
  label: r.label,
  validFrom: r.valid_from_ms,
  validUntil: r.valid_until_ms,
  entriesAllowed: r.entries_allowed,
  entriesUsed: r.entries_used,
  schedule: r.schedule === null ? null : (JSON.parse(r.schedule) as WeeklyWindow[]),
});

export class EntitlementBook {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  grant(grant: EntitlementGrant): Entitlement {
    const id = `ent_${randomBytes(9).toString("base64url")}`;
    this.#db
      .prepare(
        `INSERT INTO entitlements (entitlement_id, identity_id, kind, venue_id, label, valid_from_ms, valid_until_ms, entries_allowed, schedule)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, grant.identityId, grant.kind, grant.venueId, grant.label, grant.validFrom, grant.validUntil, grant.kind === "ticket" ? grant.entries : null, grant.kind === "badge" ? JSON.stringify(grant.schedule) : null);
    return this.get(id)!;
  }

  get(entitlementId: string): Entitlement | undefined {
    const row = this.#db.prepare("SELECT * FROM entitlements WHERE entitlement_id = ?").get(entitlementId) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  revoke(entitlementId: string, nowMs: number): boolean {
    return this.#db.prepare("UPDATE entitlements SET revoked_ms = ? WHERE entitlement_id = ? AND revoked_ms IS NULL").run(nowMs, entitlementId).changes > 0;
  }

  forIdentity(identityId: string, venueId?: string): Entitlement[] {
    const rows = (
      venueId === undefined
        ? this.#db.prepare("SELECT * FROM entitlements WHERE identity_id = ? AND revoked_ms IS NULL").all(identityId)
        : this.#db.prepare("SELECT * FROM entitlements WHERE identity_id = ? AND venue_id = ? AND revoked_ms IS NULL").all(identityId, venueId)
    ) as unknown as Row[];
    return rows.map(fromRow);
  }

  /** Spends one entry, only while one is left: two gates cannot both spend the last entry. */
  recordEntry(entitlementId: string): boolean {
    return (
      this.#db
        .prepare("UPDATE entitlements SET entries_used = entries_used + 1 WHERE entitlement_id = ? AND (entries_allowed IS NULL OR entries_used < entries_allowed)")
        .run(entitlementId).changes > 0
    );
  }
}
