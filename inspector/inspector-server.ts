// The self-hosted inspector: an HTTP server on loopback that serves one page (no internet needed,
// no external assets), a JSON API over the hub, and a Server-Sent Events stream that pushes the
// actor list whenever an actor changes. Sending events is powerful, so it listens on 127.0.0.1
// unless told otherwise.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { InspectionHub } from "./inspection-hub.ts";
import { inspectorPage } from "./inspector-page.ts";
import type { SimulatedClock } from "./simulated-clock.ts";

export interface InspectorServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024;
const PUSH_INTERVAL_MS = 100;

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  const parsed: unknown = text.length === 0 ? {} : JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("body must be a JSON object");
  return parsed as Record<string, unknown>;
};

export const startInspectorServer = async (options: {
  readonly hub: InspectionHub;
  readonly title: string;
  readonly clock?: SimulatedClock;
  readonly host?: string;
  readonly port?: number;
}): Promise<InspectorServer> => {
  const { hub, clock } = options;
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

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://inspector");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const handle = async () => {
      if (req.method === "GET" && url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        return res.end(inspectorPage(options.title));
      }
      if (req.method === "GET" && url.pathname === "/api/state") return send(res, 200, state());
      if (req.method === "GET" && url.pathname === "/api/stream") {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
        res.write(`data: ${JSON.stringify(state())}\n\n`);
        streams.add(res);
        req.on("close", () => streams.delete(res));
        return;
      }
      if (req.method === "POST" && parts[0] === "api" && parts[1] === "actors" && parts[2] !== undefined && parts[3] === "events") {
        const body = await readJson(req);
        if (typeof body.type !== "string") return send(res, 400, { error: "an event needs a string `type`" });
        const delivered = hub.send(parts[2], { ...body, type: body.type });
        return delivered ? send(res, 202, { delivered: true }) : send(res, 404, { error: "no such actor, or it does not accept that event" });
      }
      if (req.method === "POST" && parts[0] === "api" && parts[1] === "actors" && parts[2] !== undefined && parts[3] === "commands" && parts[4] !== undefined) {
        const body = await readJson(req);
        const values = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
        // Commands (e.g. a hand held over a scanner) run a whole flow: answer at once, let the
        // stream show the transitions as they happen.
        const started = hub.runCommand(parts[2], parts[4], values);
        started.catch(() => {});
        return send(res, 202, { started: true });
      }
      if (req.method === "POST" && parts[0] === "api" && parts[1] === "clock" && clock !== undefined) {
        if (parts[2] === "pause") clock.pause();
        else if (parts[2] === "resume") clock.resume();
        else if (parts[2] === "step") return send(res, 200, { skippedMs: clock.step() ?? null, ...state().clock });
        else return send(res, 404, { error: "unknown clock action" });
        push();
        return send(res, 200, state().clock);
      }
      send(res, 404, { error: "not found" });
    };
    handle().catch((error: unknown) => send(res, 400, { error: error instanceof Error ? error.message : String(error) }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}/`,
    async close() {
      unsubscribe();
      if (pending !== undefined) clearTimeout(pending);
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
