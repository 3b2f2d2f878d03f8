// The operator's HTTP API on the node: entitlements for gates (tickets, badges), loyalty cards,
// refunds, voids of authorizations no device will settle, and revoking a scanner. JSON in and out;
// every call must carry the operator token (a bearer token; the node always has one).
import { Effect } from "effect";
import { WriteNotAuthorised } from "../identity/write-authority.ts";
import {
  HttpRoutes,
  json,
  RequestBodyNotJson,
  RequestBodyNotObject,
  RequestBodyTooLarge,
  type Answer,
  type JsonObject,
  type RouteHandler,
} from "../../http/http-router.ts";
import { carriesBearerToken } from "../../http/bearer-token.ts";
import { refusedBodyType, refusedOrigin } from "../../http/request-origin.ts";
import type { DeviceId } from "../../core/ids.ts";
import type { WeeklyWindow } from "../entitlements/entitlement-book.ts";
import type { ReplicationStatus } from "../replication/region-replication.ts";
import type { RegionServices } from "../session/region-services.ts";

const MAX_BODY_BYTES = 64 * 1024;

const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 256 ? v : undefined);
const int = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) ? v : undefined);
const isWindow = (w: unknown): w is WeeklyWindow =>
  typeof w === "object" &&
  w !== null &&
  [int((w as WeeklyWindow).day), int((w as WeeklyWindow).fromMinute), int((w as WeeklyWindow).toMinute)].every((n) => n !== undefined);

/** The operator API's routes, mounted by the region server. */
export const operatorApi = (
  flows: RegionServices,
  options: {
    operatorToken: string;
    now: () => number;
    isLive: (identityId: string) => boolean;
    /** The replication service's status, for GET /api/replication. */
    replication?: () => ReplicationStatus;
    /** Revokes a device and closes its live sessions; false for a device the region never provisioned. */
    revokeDevice?: (deviceId: DeviceId) => boolean;
    /** The host name the node was told to listen on: a Host header may name it besides an address. */
    listenHost?: string;
  },
) => {
  const identityOf = (body: JsonObject) => {
    const direct = str(body.identityId);
    if (direct !== undefined) return options.isLive(direct) ? direct : undefined;
    const phone = str(body.phone);
    return phone === undefined ? undefined : Effect.runSync(flows.registry.findByPhone(phone));
  };

  const routes = new HttpRoutes({
    headers: { "cache-control": "no-store" },
    maxBodyBytes: MAX_BODY_BYTES,
    failure: (error, request) => {
      if (error instanceof RequestBodyTooLarge) return json(413, { error: "body too large" });
      if (error instanceof RequestBodyNotJson || error instanceof RequestBodyNotObject) return json(400, { error: "invalid JSON" });
      request.log(`operator API ${request.method} ${request.path} failed: ${error instanceof Error ? error.message : String(error)}`);
      return json(500, { error: "internal error" });
    },
  });
  /**
   * Every call: where it comes from checked first (a web page, or a name rebound to loopback, is
   * refused before anything else), then the token, then the body (JSON only as application/json,
   * so a page's "simple" text/plain request is no call), then the operation.
   */
  const operation =
    (answer: (body: JsonObject, params: Readonly<Record<string, string>>) => Answer | Promise<Answer>): RouteHandler =>
    async ({ req, params, body: readBody }) => {
      const refused = refusedOrigin(req, options.listenHost);
      if (refused !== undefined) return json(403, { error: refused });
      if (!carriesBearerToken(req, options.operatorToken)) return json(401, { error: "operator token required" });
      const badBody = refusedBodyType(req);
      if (badBody !== undefined) return json(415, { error: badBody });
      return answer(await readBody(), params);
    };

  const replication = options.replication;
  if (replication !== undefined)
    routes.get(
      "/api/replication",
      operation(() => json(200, replication())),
    );
  routes.post(
    "/api/entitlements",
    operation((body) => {
      const identityId = identityOf(body);
      if (identityId === undefined) return json(404, { error: "no live identity for that id or phone" });
      const venueId = str(body.venueId);
      const label = str(body.label) ?? "";
      const validFrom = int(body.validFrom) ?? options.now();
      const validUntil = int(body.validUntil);
      if (venueId === undefined || validUntil === undefined || validUntil <= validFrom)
        return json(422, { error: "venueId and a validUntil after validFrom are required" });
      if (body.kind === "ticket") {
        const entries = body.entries === undefined || body.entries === null ? null : int(body.entries);
        if (entries === undefined || (entries !== null && entries < 1)) return json(422, { error: "entries must be a positive integer or null (unlimited)" });
        return json(201, flows.entitlements.grant({ kind: "ticket", identityId, venueId, label, validFrom, validUntil, entries }));
      }
      if (body.kind === "badge") {
        const schedule = Array.isArray(body.schedule) && body.schedule.every(isWindow) ? (body.schedule as WeeklyWindow[]) : undefined;
        if (schedule === undefined) return json(422, { error: "a badge needs a schedule of {day, fromMinute, toMinute}" });
        return json(201, flows.entitlements.grant({ kind: "badge", identityId, venueId, label, validFrom, validUntil, schedule }));
      }
      return json(422, { error: "kind must be ticket or badge" });
    }),
  );
  routes.delete(
    "/api/entitlements/:entitlementId",
    operation((_body, { entitlementId }) =>
      flows.entitlements.revoke(entitlementId!, options.now()) ? json(200, { revoked: entitlementId }) : json(404, { error: "unknown entitlement" }),
    ),
  );
  routes.get(
    "/api/identities/:identityId/entitlements",
    operation((_body, { identityId }) => json(200, { entitlements: flows.entitlements.forIdentity(identityId!) })),
  );
  routes.put(
    "/api/identities/:identityId/loyalty-card",
    operation((body, { identityId }) => {
      const card = str(body.loyaltyCard);
      if (card === undefined || !options.isLive(identityId!)) return json(422, { error: "a live identity and a loyaltyCard are required" });
      const failed = Effect.runSync(
        Effect.match(flows.registry.writeProfile(identityId!, { loyaltyCard: card }), { onFailure: (e) => e, onSuccess: () => undefined }),
      );
      // The loyalty card is the enrolling region's to write (cloud/identity/write-authority.ts).
      if (failed instanceof WriteNotAuthorised) return json(409, { error: failed.message });
      if (failed !== undefined) throw failed;
      return json(200, { identityId, loyaltyCard: card });
    }),
  );
  routes.post(
    "/api/payments/:paymentId/refund",
    operation(async (body, { paymentId }) => {
      const result = await flows.payments.refund(paymentId!, int(body.amountMinor));
      return json(result.outcome === "refunded" ? 200 : 409, result);
    }),
  );
  routes.post(
    "/api/payments/:paymentId/void",
    operation(async (_body, { paymentId }) => {
      const result = await flows.payments.voidApproved(paymentId!);
      return json(result.outcome === "voided" ? 200 : 409, result);
    }),
  );
  const revokeDevice = options.revokeDevice;
  if (revokeDevice !== undefined)
    routes.post(
      "/api/devices/:deviceId/revoke",
      operation((_body, { deviceId }) => (revokeDevice(deviceId as DeviceId) ? json(200, { revoked: deviceId }) : json(404, { error: "unknown device" }))),
    );
  // Any other path under /api/ is refused like the others when the token is missing.
  routes.on(
    "ALL",
    "/api/*",
    operation(() => json(404, { error: "not found" })),
  );
  return routes;
};
