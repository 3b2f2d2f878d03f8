// Who may enter where: event tickets (a venue, a validity window, single or multiple entry) and
// workplace badges (a site, a weekly schedule of opening windows in UTC). Managed through the
// node's HTTP API; a ticket entry is spent only when the gate reports a real passage. They hang
// off an identity, so they rest in the identity registry and go with its tombstone.
import { randomBytes } from "node:crypto";
import { Effect } from "effect";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { StoredEntitlement } from "../storage/identity-storage.ts";

/** A weekly window: day 0 = Sunday, minutes since midnight UTC, [from, to). */
export interface WeeklyWindow {
  readonly day: number;
  readonly fromMinute: number;
  readonly toMinute: number;
}

export type EntitlementGrant =
  | {
      readonly kind: "ticket";
      readonly identityId: string;
      readonly venueId: string;
      readonly label: string;
      readonly validFrom: number;
      readonly validUntil: number;
      readonly entries: number | null;
    }
  | {
      readonly kind: "badge";
      readonly identityId: string;
      readonly venueId: string;
      readonly label: string;
      readonly validFrom: number;
      readonly validUntil: number;
      readonly schedule: readonly WeeklyWindow[];
    };

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

const fromStored = (e: StoredEntitlement): Entitlement => ({
  entitlementId: e.entitlementId,
  identityId: e.identityId,
  kind: e.kind === "badge" ? "badge" : "ticket",
  venueId: e.venueId,
  label: e.label,
  validFrom: e.validFromMs,
  validUntil: e.validUntilMs,
  entriesAllowed: e.entriesAllowed,
  entriesUsed: e.entriesUsed,
  schedule: e.schedule === null ? null : (JSON.parse(e.schedule) as WeeklyWindow[]),
});

export class EntitlementBook {
  readonly #registry: IdentityRegistryShape;

  constructor(registry: IdentityRegistryShape) {
    this.#registry = registry;
  }

  /** Grants an entitlement to a live identity; fails with IdentityNotLive otherwise. */
  grant(grant: EntitlementGrant): Entitlement {
    const entitlement: StoredEntitlement = {
      entitlementId: `ent_${randomBytes(9).toString("base64url")}`,
      identityId: grant.identityId,
      kind: grant.kind,
      venueId: grant.venueId,
      label: grant.label,
      validFromMs: grant.validFrom,
      validUntilMs: grant.validUntil,
      entriesAllowed: grant.kind === "ticket" ? grant.entries : null,
      entriesUsed: 0,
      schedule: grant.kind === "badge" ? JSON.stringify(grant.schedule) : null,
      revokedMs: null,
    };
    Effect.runSync(this.#registry.grantEntitlement(entitlement));
    return fromStored(entitlement);
  }

  get(entitlementId: string): Entitlement | undefined {
    const stored = Effect.runSync(this.#registry.entitlement(entitlementId));
    return stored === undefined ? undefined : fromStored(stored);
  }

  revoke(entitlementId: string, nowMs: number): boolean {
    return Effect.runSync(this.#registry.revokeEntitlement(entitlementId, nowMs));
  }

  forIdentity(identityId: string, venueId?: string): Entitlement[] {
    return Effect.runSync(this.#registry.entitlementsOf(identityId, venueId)).map(fromStored);
  }

  /** Spends one entry, only while one is left: two gates cannot both spend the last entry. */
  recordEntry(entitlementId: string): boolean {
    return Effect.runSync(this.#registry.countEntry(entitlementId));
  }
}
