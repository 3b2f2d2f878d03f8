// The operator's HTTP API on the node: entitlements for gates (tickets, badges), loyalty cards,
// refunds, and voids of authorizations no device will settle. JSON in and out; with an operator
// token configured, every call must carry it.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { WeeklyWindow } from "../entitlements/entitlement-book.ts";
import type { ReplicationStatus } from "../replication/region-replication.ts";
import type { RegionFlows } from "../session/region-flows.ts";

export type ApiAnswer = readonly [status: number, body: unknown];

const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 256 ? v : undefined);
const int = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) ? v : undefined);
const isWindow = (w: unknown): w is WeeklyWindow =>
  typeof w === "object" && w !== null && [int((w as WeeklyWindow).day), int((w as WeeklyWindow).fromMinute), int((w as WeeklyWindow).toMinute)].every((n) => n !== undefined);

export const operatorApi = (
  flows: RegionFlows,
  options: {
    operatorToken?: string;
    now: () => number;
    isLive: (identityId: string) => boolean;
    /** The replication service's status, for GET /api/replication. */
    replication?: () => ReplicationStatus;
  },
) => {
  const authorized = (req: IncomingMessage) => {
    if (options.operatorToken === undefined) return true;
    const given = Buffer.from(req.headers.authorization ?? "");
    const expected = Buffer.from(`Bearer ${options.operatorToken}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const identityOf = (body: Record<string, unknown>) => {
    const direct = str(body.identityId);
    if (direct !== undefined) return options.isLive(direct) ? direct : undefined;
    const phone = str(body.phone);
    return phone === undefined ? undefined : flows.profiles.findByPhone(phone);
  };

  return async (req: IncomingMessage, path: string, body: Record<string, unknown>): Promise<ApiAnswer | undefined> => {
    if (!path.startsWith("/api/")) return undefined;
    if (!authorized(req)) return [401, { error: "operator token required" }];
    const parts = path.split("/").slice(2).map(decodeURIComponent);
    const method = req.method ?? "GET";
    if (method === "GET" && parts.length === 1 && parts[0] === "replication" && options.replication !== undefined) {
      return [200, options.replication()];
    }
    if (method === "POST" && parts.length === 1 && parts[0] === "entitlements") {
      const identityId = identityOf(body);
      if (identityId === undefined) return [404, { error: "no live identity for that id or phone" }];
      const venueId = str(body.venueId);
      const label = str(body.label) ?? "";
      const validFrom = int(body.validFrom) ?? options.now();
      const validUntil = int(body.validUntil);
      if (venueId === undefined || validUntil === undefined || validUntil <= validFrom) return [422, { error: "venueId and a validUntil after validFrom are required" }];
      if (body.kind === "ticket") {
        const entries = body.entries === undefined || body.entries === null ? null : int(body.entries);
        if (entries === undefined || (entries !== null && entries < 1)) return [422, { error: "entries must be a positive integer or null (unlimited)" }];
        return [201, flows.entitlements.grant({ kind: "ticket", identityId, venueId, label, validFrom, validUntil, entries })];
      }
      if (body.kind === "badge") {
        const schedule = Array.isArray(body.schedule) && body.schedule.every(isWindow) ? (body.schedule as WeeklyWindow[]) : undefined;
        if (schedule === undefined) return [422, { error: "a badge needs a schedule of {day, fromMinute, toMinute}" }];
        return [201, flows.entitlements.grant({ kind: "badge", identityId, venueId, label, validFrom, validUntil, schedule })];
      }
      return [422, { error: "kind must be ticket or badge" }];
    }
    if (method === "DELETE" && parts.length === 2 && parts[0] === "entitlements") {
      return flows.entitlements.revoke(parts[1]!, options.now()) ? [200, { revoked: parts[1] }] : [404, { error: "unknown entitlement" }];
    }
    if (method === "GET" && parts.length === 3 && parts[0] === "identities" && parts[2] === "entitlements") {
      return [200, { entitlements: flows.entitlements.forIdentity(parts[1]!) }];
    }
    if (method === "PUT" && parts.length === 3 && parts[0] === "identities" && parts[2] === "loyalty-card") {
      const card = str(body.loyaltyCard);
      if (card === undefined || !options.isLive(parts[1]!)) return [422, { error: "a live identity and a loyaltyCard are required" }];
      flows.profiles.write(parts[1]!, { loyaltyCard: card });
      return [200, { identityId: parts[1], loyaltyCard: card }];
    }
    if (method === "POST" && parts.length === 3 && parts[0] === "payments" && parts[2] === "refund") {
      const result = await flows.payments.refund(parts[1]!, int(body.amountMinor));
      return [result.outcome === "refunded" ? 200 : 409, result];
    }
    if (method === "POST" && parts.length === 3 && parts[0] === "payments" && parts[2] === "void") {
      const result = await flows.payments.voidApproved(parts[1]!);
      return [result.outcome === "voided" ? 200 : 409, result];
    }
    return [404, { error: "not found" }];
  };
};

export type OperatorApi = ReturnType<typeof operatorApi>;
