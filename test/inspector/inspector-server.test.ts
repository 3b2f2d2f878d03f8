// The inspector's HTTP API over a real loopback socket, without a browser: what it answers a
// developer's request it cannot act on.
import { request } from "node:http";
import { afterEach, expect, test } from "vitest";
import { InspectionHub } from "../../inspector/inspection-hub.ts";
import { startInspectorServer, type InspectorServer } from "../../inspector/inspector-server.ts";

let server: InspectorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const TOKEN = "inspector-token-for-tests";
const AUTHORIZED = { authorization: `Bearer ${TOKEN}` };

const start = async () => {
  server = await startInspectorServer({ hub: new InspectionHub(() => 0), title: "test", token: TOKEN });
  const url = server.url.replace(/\/$/, "");
  return async (method: string, path: string, body?: string) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...AUTHORIZED, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    return { status: response.status, cache: response.headers.get("cache-control"), body: (await response.json()) as Record<string, unknown> };
  };
};

test("serves the hub's state, never cached", async () => {
  const call = await start();
  expect(await call("GET", "/api/state")).toEqual({ status: 200, cache: "no-store", body: { title: "test", clock: null, actors: [] } });
});

test("an event needs a type and an actor that takes it", async () => {
  const call = await start();
  expect(await call("POST", "/api/actors/x%3A1/events", "{}")).toMatchObject({ status: 400, body: { error: "an event needs a string `type`" } });
  expect(await call("POST", "/api/actors/x%3A1/events", '{"type":"GO"}')).toMatchObject({
    status: 404,
    body: { error: "no such actor, or it does not accept that event" },
  });
});

test("says why it cannot read a request body", async () => {
  const call = await start();
  expect((await call("POST", "/api/actors/a/events", "{oops")).status).toBe(400);
  expect(await call("POST", "/api/actors/a/events", "[]")).toMatchObject({ status: 400, body: { error: "body must be a JSON object" } });
  expect(await call("POST", "/api/actors/a/events", JSON.stringify({ type: "x".repeat(17 * 1024) }))).toMatchObject({
    status: 400,
    body: { error: "request body too large" },
  });
});

test("has no clock to drive without a simulated clock, and nothing at unknown paths", async () => {
  const call = await start();
  expect(await call("POST", "/api/clock/pause", "{}")).toEqual({ status: 404, cache: "no-store", body: { error: "not found" } });
  expect(await call("GET", "/nowhere")).toEqual({ status: 404, cache: "no-store", body: { error: "not found" } });
});

test("refuses to drive an actor for a web page of another origin, or through a rebound host name", async () => {
  await start();
  const url = new URL(server!.url);
  const post = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: "/api/actors/a/events",
          headers: { "content-type": "application/json", ...AUTHORIZED, ...headers },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.once("error", reject);
      req.end('{"type":"GO"}');
    });
  expect(await post({ origin: "http://shop.example" })).toBe(403);
  expect(await post({ host: `rebound.example:${url.port}` })).toBe(403);
});

test("takes an event only as application/json: a page's text/plain request is refused", async () => {
  await start();
  const response = await fetch(`${server!.url}api/actors/a/events`, { method: "POST", headers: AUTHORIZED, body: '{"type":"GO"}' });
  expect([response.status, await response.json()]).toEqual([415, { error: "the body must be application/json" }]);
});

test("refuses to show or drive the actors without its token", async () => {
  await start();
  const statuses = async (headers: Record<string, string>) =>
    Promise.all(
      [
        fetch(`${server!.url}api/state`, { headers }),
        fetch(`${server!.url}api/stream`, { headers }),
        fetch(`${server!.url}api/actors/a/events`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"type":"GO"}' }),
        fetch(`${server!.url}api/actors/a/commands/run`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: "{}" }),
      ].map(async (answer) => {
        const response = await answer;
        await response.body?.cancel();
        return response.status;
      }),
    );
  expect(await statuses({})).toEqual([401, 401, 401, 401]);
  expect(await statuses({ authorization: "Bearer inspector-token-for-testz" })).toEqual([401, 401, 401, 401]);
});

test("without a token given, makes a fresh one each start and hands it over in the page address's fragment", async () => {
  const first = await startInspectorServer({ hub: new InspectionHub(() => 0), title: "test" });
  const second = await startInspectorServer({ hub: new InspectionHub(() => 0), title: "test" });
  try {
    const tokenOf = (pageUrl: string) => new URL(pageUrl).hash.replace(/^#token=/, "");
    expect(tokenOf(first.pageUrl)).toMatch(/^[\w-]{43}$/);
    expect(tokenOf(first.pageUrl)).not.toBe(tokenOf(second.pageUrl));
    const page = await fetch(first.pageUrl);
    expect([page.status, page.headers.get("referrer-policy")]).toEqual([200, "no-referrer"]);
    await page.body?.cancel();
    expect((await fetch(`${first.url}api/state`, { headers: { authorization: `Bearer ${tokenOf(first.pageUrl)}` } })).status).toBe(200);
    expect((await fetch(`${first.url}api/state`, { headers: { authorization: `Bearer ${tokenOf(second.pageUrl)}` } })).status).toBe(401);
  } finally {
    await first.close();
    await second.close();
  }
});
