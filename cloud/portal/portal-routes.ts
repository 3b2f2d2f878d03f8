// The privacy portal's HTTP routes, mounted by the node under /portal. JSON in and out; the page
// (portal-page.ts) is the only client it needs. Every answer is no-store: a person's data must
// not sit in a shared cache.
import type { IncomingMessage } from "node:http";
import {
  HttpRoutes,
  json,
  RequestBodyNotJson,
  RequestBodyNotObject,
  RequestBodyTooLarge,
  text,
  type Answer,
  type RouteHandler,
  type RouteRequest,
} from "../../http/http-router.ts";
import { isPhoneNumber } from "../../protocol/index.ts";
import type { PortalDirectory } from "./portal-directory.ts";
import { portalPage } from "./portal-page.ts";
import { PORTAL_SESSION_TTL_MS, type PortalSignIn } from "./portal-sign-in.ts";

const COOKIE = "palmline_portal";
const MAX_BODY_BYTES = 4 * 1024;
const CODE = /^[0-9]{6}$/;

/** The peer of the HTTP connection: phone codes are limited per address (behind a proxy, the proxy's). */
const sourceAddress = (req: IncomingMessage): string => req.socket.remoteAddress ?? "unknown";

const cookieToken = (req: IncomingMessage): string | undefined =>
  (req.headers.cookie ?? "")
    .split(";")
    .map((c) => c.trim().split("="))
    .find(([name]) => name === COOKIE)?.[1];

export interface PortalRoutesOptions {
  readonly signIn: PortalSignIn;
  readonly directory: PortalDirectory;
  readonly log: (line: string) => void;
  /** Served over TLS: the session cookie is marked Secure, so a browser never sends it in clear. */
  readonly overTls?: boolean;
}

/** The routes under /portal: the page, sign-in, and what a signed-in person may see and do. */
export const portalRoutes = (options: PortalRoutesOptions): HttpRoutes => {
  const { signIn, directory } = options;
  const cookieAttributes = `HttpOnly; SameSite=Strict; Path=/portal${options.overTls === true ? "; Secure" : ""}`;
  const routes = new HttpRoutes({
    headers: { "cache-control": "no-store" },
    maxBodyBytes: MAX_BODY_BYTES,
    failure: (error, request) => {
      if (error instanceof RequestBodyNotJson) return json(400, { error: "body is not JSON" });
      if (error instanceof RequestBodyTooLarge) return json(400, { error: "request too large" });
      if (error instanceof RequestBodyNotObject) return json(400, { error: error.message });
      // Anything else is the node's fault: say so without internals, and log it.
      request.log(`portal: ${request.path} failed: ${error instanceof Error ? error.message : String(error)}`);
      return json(500, { error: "the portal could not do that just now" });
    },
  });
  /** A route for a signed-in person only: it runs with the identity the session cookie stands for. */
  const signedIn =
    (answer: (identityId: string, request: RouteRequest) => Promise<Answer>): RouteHandler =>
    (request) => {
      const identityId = signIn.identityFor(cookieToken(request.req));
      return identityId === undefined ? json(401, { error: "sign in first" }) : answer(identityId, request);
    };

  const page = () => text(200, "text/html; charset=utf-8", portalPage());
  routes.get("/portal", page).get("/portal/", page);
  routes.post("/portal/api/code", async (request) => {
    const { phone } = await request.body();
    if (typeof phone !== "string" || !isPhoneNumber(phone)) return json(400, { error: "enter the phone number in international form, e.g. +447700900123" });
    // The same answer whether or not the number is enrolled: the portal does not tell strangers who uses palmline.
    if (!(await signIn.requestCode(phone, sourceAddress(request.req)))) return json(429, { error: "too many codes asked for; try again in a few minutes" });
    return json(202, { sent: true });
  });
  routes.post("/portal/api/session", async (request) => {
    const { phone, code } = await request.body();
    if (typeof phone !== "string" || !isPhoneNumber(phone) || typeof code !== "string" || !CODE.test(code)) {
      return json(400, { error: "enter your phone number and the 6-digit code" });
    }
    const outcome = signIn.signIn(phone, code, sourceAddress(request.req));
    if (outcome.kind === "wrong-code") return json(401, { error: "that code is wrong or has expired" });
    if (outcome.kind === "not-enrolled") return json(404, { error: "no palmline identity is enrolled with this phone number" });
    const cookie = `${COOKIE}=${outcome.token}; ${cookieAttributes}; Max-Age=${PORTAL_SESSION_TTL_MS / 1000}`;
    return json(200, { signedIn: true }, { "set-cookie": cookie });
  });
  routes.get(
    "/portal/api/me",
    signedIn(async (identityId) => {
      const view = directory.view(identityId);
      return view === undefined ? json(404, { error: "this identity no longer exists" }) : json(200, view);
    }),
  );
  routes.post(
    "/portal/api/card/unlink",
    signedIn(async (identityId) => {
      await directory.unlinkCard(identityId);
      options.log(`portal: card unlinked from ${identityId}`);
      return json(200, { unlinked: true });
    }),
  );
  routes.post(
    "/portal/api/delete",
    signedIn(async (identityId, request) => {
      const { confirm } = await request.body();
      if (confirm !== true) return json(400, { error: "deletion needs confirm: true" });
      const outcome = await directory.requestDeletion(identityId);
      options.log(`portal: deletion of ${identityId} requested: ${outcome.outcome}`);
      if (outcome.outcome === "deleted") signIn.endSessionsOf(identityId);
      return json(200, outcome);
    }),
  );
  routes.post(
    "/portal/api/sign-out",
    signedIn(async (_identityId, request) => {
      signIn.signOut(cookieToken(request.req));
      return json(200, { signedOut: true }, { "set-cookie": `${COOKIE}=; ${cookieAttributes}; Max-Age=0` });
    }),
  );
  // Any other path: the API asks a stranger to sign in first; the rest is not found.
  routes.on("ALL", "/portal/*", ({ req }) =>
    (req.url ?? "").startsWith("/portal/api/") && signIn.identityFor(cookieToken(req)) === undefined
      ? json(401, { error: "sign in first" })
      : json(404, { error: "not found" }),
  );
  return routes;
};
