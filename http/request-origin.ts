// Who may call an HTTP surface that changes something, judged from the request itself: what a web
// page (or a DNS name rebound to loopback) can make a browser send is refused, the operator's own
// tools are not. One rule for every such surface (the operator API, the inspector).
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

const hostName = (host: string): string | undefined => {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(host);
  if (bracketed !== null) return bracketed[1];
  const plain = /^([^:]+)(?::\d+)?$/.exec(host);
  return plain?.[1]?.toLowerCase();
};

/**
 * Why a request is refused for where it comes from, if it is. The Host must name the server by
 * address (an IP literal or localhost) or by the name it was configured to listen on: a DNS name
 * rebound to loopback carries its own name. A browser names the page that made a request in
 * Origin; tools send none, and a page of another origin is refused.
 */
export const refusedOrigin = (req: IncomingMessage, listenHost?: string): string | undefined => {
  const host = req.headers.host;
  if (host === undefined) return "a Host header is required";
  const name = hostName(host);
  if (name === undefined || !(isIP(name) !== 0 || name === "localhost" || name === listenHost?.toLowerCase())) return "this host name is not the server's";
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  try {
    return new URL(origin).host === host ? undefined : "calls from another origin are refused";
  } catch {
    return "calls from another origin are refused";
  }
};

/** A request body a page cannot send without asking first (CORS preflight): JSON only as application/json. */
export const refusedBodyType = (req: IncomingMessage): string | undefined => {
  const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  return hasBody && type !== "application/json" ? "the body must be application/json" : undefined;
};
