// The self-hosted inspector: an HTTP server on loopback that serves one page (no internet needed,
// no external assets), a JSON API over the hub, and a Server-Sent Events stream that pushes the
// actor list whenever an actor changes. It shows phone numbers and codes and sends events, so it
// listens on 127.0.0.1 unless told otherwise and every API call carries its own bearer token (not
// the operator's): made fresh at each start unless given, and handed to the developer in the
// page's address fragment, which a browser sends neither to the server nor in a Referer.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { carriesBearerToken, newBearerToken } from "../http/bearer-token.ts";
import { HttpRouter, HttpRoutes, json, type RouteHandler, text } from "../http/http-router.ts";
import { refusedBodyType, refusedOrigin } from "../http/request-origin.ts";
import type { InspectionHub } from "./inspection-hub.ts";
import { inspectorPage } from "./inspector-page.ts";
import type { SimulatedClock } from "./simulated-clock.ts";

export interface InspectorServer {
  readonly url: string;
  /** The page's address with the token in its fragment: what the developer opens. */
  readonly pageUrl: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024;
const PUSH_INTERVAL_MS = 100;

export const startInspectorServer = async (options: {
  readonly hub: InspectionHub;
  readonly title: string;
  readonly clock?: SimulatedClock;
  readonly host?: string;
  readonly port?: number;
  /** The bearer token every API call must carry; a fresh one when not given. */
  readonly token?: string;
}): Promise<InspectorServer> => {
  const { hub, clock } = options;
  const token = options.token ?? newBearerToken();
  const streams = new Set<ServerResponse>();
  const state = () => ({ title: options.title, clock: clock === undefined ? null : { paused: clock.paused, now: clock.now() }, actors: hub.actors() });

  // Coalesce bursts of changes into one push per interval.
  let pending: NodeJS.Timeout | undefined;
  const push = () => {
    pending = undefined;
    const data = `data: ${JSON.stringify(state())}\n\n`;
    for (const res of streams) res.write(data);
  };
  const unsubscribe = hub.subscribe(() => {
    if (pending === undefined && streams.size > 0) pending = setTimeout(push, PUSH_INTERVAL_MS);
  });

  // A failure is the developer's request (a body it could not read, an event the hub refused): say why.
  const routes = new HttpRoutes({
    headers: { "cache-control": "no-store" },
    maxBodyBytes: MAX_BODY_BYTES,
    failure: (error) => json(400, { error: error instanceof Error ? error.message : String(error) }),
  });
  routes.get("/", () => ({ ...text(200, "text/html; charset=utf-8", inspectorPage(options.title)), headers: { "referrer-policy": "no-referrer" } }));
  /** What reveals the actors (phone numbers, codes) needs the token; a page of another origin or a rebound host name is refused first. */
  const readable =
    (handler: RouteHandler): RouteHandler =>
    (request) => {
      const refused = refusedOrigin(request.req, options.host);
      if (refused !== undefined) return json(403, { error: refused });
      return carriesBearerToken(request.req, token) ? handler(request) : json(401, { error: "inspector token required" });
    };
  routes.get(
    "/api/state",
    readable(() => json(200, state())),
  );
  routes.get(
    "/api/stream",
    readable(({ req, res }) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(`data: ${JSON.stringify(state())}\n\n`);
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return undefined;
    }),
  );
  // What drives actors is also refused to a web page of another origin, and takes JSON only as
  // application/json (the inspector's own page sends that, from its own origin).
  const guarded = (handler: RouteHandler): RouteHandler =>
    readable((request) => {
      const badBody = refusedBodyType(request.req);
      return badBody !== undefined ? json(415, { error: badBody }) : handler(request);
    });
  routes.post(
    "/api/actors/:actorId/events",
    guarded(async (request) => {
      const body = await request.body();
      if (typeof body.type !== "string") return json(400, { error: "an event needs a string `type`" });
      const delivered = hub.send(request.params.actorId!, { ...body, type: body.type });
      return delivered ? json(202, { delivered: true }) : json(404, { error: "no such actor, or it does not accept that event" });
    }),
  );
  routes.post(
    "/api/actors/:actorId/commands/:command",
    guarded(async (request) => {
      const body = await request.body();
      const values = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
      // Commands (e.g. a hand held over a scanner) run a whole flow: answer at once, let the
      // stream show the transitions as they happen.
      const started = hub.runCommand(request.params.actorId!, request.params.command!, values);
      started.catch(() => {});
      return json(202, { started: true });
    }),
  );
  if (clock !== undefined) {
    routes.post(
      "/api/clock/:action",
      guarded(({ params }) => {
        if (params.action === "pause") clock.pause();
        else if (params.action === "resume") clock.resume();
        else if (params.action === "step") return json(200, { skippedMs: clock.step() ?? null, ...state().clock });
        else return json(404, { error: "unknown clock action" });
        push();
        return json(200, state().clock);
      }),
    );
  }
  const server = createServer(new HttpRouter({ notFound: json(404, { error: "not found" }, { "cache-control": "no-store" }) }).mount(routes).handle);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}/`;
  return {
    url,
    pageUrl: `${url}#token=${token}`,
    async close() {
      unsubscribe();
      if (pending !== undefined) clearTimeout(pending);
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
