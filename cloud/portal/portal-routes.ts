// The privacy portal's HTTP routes, mounted by the node under /portal. JSON in and out; the page
// (portal-page.ts) is the only client it needs. Every answer is no-store: a person's data must
// not sit in a shared cache.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PortalDirectory } from "./portal-directory.ts";
import { portalPage } from "./portal-page.ts";
import { PORTAL_SESSION_TTL_MS, type PortalSignIn } from "./portal-sign-in.ts";

const COOKIE = "palmline_portal";
const MAX_BODY_BYTES = 4 * 1024;
const PHONE = /^\+[1-9][0-9]{7,14}$/;
const CODE = /^[0-9]{6}$/;

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY_BYTES) throw new RangeError("request too large");
    chunks.push(chunk as Buffer);
  }
  const parsed: unknown = chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString("utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new RangeError("body must be a JSON object");
  return parsed as Record<string, unknown>;
};

const cookieToken = (req: IncomingMessage): string | undefined =>
  (req.headers.cookie ?? "")
    .split(";")
    .map((c) => c.trim().split("="))
    .find(([name]) => name === COOKIE)?.[1];

const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
};

export interface PortalRoutesOptions {
  readonly signIn: PortalSignIn;
  readonly directory: PortalDirectory;
  readonly log: (line: string) => void;
}

/** Handles /portal and /portal/api/*; returns false for any other path. */
export const portalRoutes = (options: PortalRoutesOptions) => {
  const { signIn, directory } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.method === "GET" && (path === "/portal" || path === "/portal/")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(portalPage());
      return;
    }
    if (req.method === "POST" && path === "/portal/api/code") {
      const { phone } = await readJson(req);
      if (typeof phone !== "string" || !PHONE.test(phone)) return reply(res, 400, { error: "enter the phone number in international form, e.g. +447700900123" });
      // The same answer whether or not the number is enrolled: the portal does not tell strangers who uses palmline.
      if (!(await signIn.requestCode(phone))) return reply(res, 429, { error: "too many codes asked for this number; try again in a few minutes" });
      return reply(res, 202, { sent: true });
    }
    if (req.method === "POST" && path === "/portal/api/session") {
      const { phone, code } = await readJson(req);
      if (typeof phone !== "string" || !PHONE.test(phone) || typeof code !== "string" || !CODE.test(code)) {
        return reply(res, 400, { error: "enter your phone number and the 6-digit code" });
      }
      const outcome = signIn.signIn(phone, code);
      if (outcome.kind === "wrong-code") return reply(res, 401, { error: "that code is wrong or has expired" });
      if (outcome.kind === "not-enrolled") return reply(res, 404, { error: "no palmline identity is enrolled with this phone number" });
      const cookie = `${COOKIE}=${outcome.token}; HttpOnly; SameSite=Strict; Path=/portal; Max-Age=${PORTAL_SESSION_TTL_MS / 1000}`;
      return reply(res, 200, { signedIn: true }, { "set-cookie": cookie });
    }
    const identityId = signIn.identityFor(cookieToken(req));
    if (path.startsWith("/portal/api/") && identityId === undefined) return reply(res, 401, { error: "sign in first" });
    if (identityId === undefined) return reply(res, 404, { error: "not found" });
    if (req.method === "GET" && path === "/portal/api/me") {
      const view = directory.view(identityId);
      return view === undefined ? reply(res, 404, { error: "this identity no longer exists" }) : reply(res, 200, view);
    }
    if (req.method === "POST" && path === "/portal/api/card/unlink") {
      await directory.unlinkCard(identityId);
      options.log(`portal: card unlinked from ${identityId}`);
      return reply(res, 200, { unlinked: true });
    }
    if (req.method === "POST" && path === "/portal/api/delete") {
      const { confirm } = await readJson(req);
      if (confirm !== true) return reply(res, 400, { error: "deletion needs confirm: true" });
      const outcome = await directory.requestDeletion(identityId);
      options.log(`portal: deletion of ${identityId} requested: ${outcome.outcome}`);
      if (outcome.outcome === "deleted") signIn.endSessionsOf(identityId);
      return reply(res, 200, outcome);
    }
    if (req.method === "POST" && path === "/portal/api/sign-out") {
      signIn.signOut(cookieToken(req));
      return reply(res, 200, { signedOut: true }, { "set-cookie": `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/portal; Max-Age=0` });
    }
    reply(res, 404, { error: "not found" });
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path !== "/portal" && !path.startsWith("/portal/")) return false;
    handle(req, res, path).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof SyntaxError) return reply(res, 400, { error: "body is not JSON" });
      if (error instanceof RangeError) return reply(res, 400, { error: error.message });
      // Anything else is the node's fault: say so without internals, and log it.
      options.log(`portal: ${path} failed: ${error instanceof Error ? error.message : String(error)}`);
      reply(res, 500, { error: "the portal could not do that just now" });
    });
    return true;
  };
};
