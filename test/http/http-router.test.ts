// The one HTTP router every surface mounts its routes on, over a real loopback socket: matching,
// answers, JSON bodies read up to a limit with typed failures, and each surface's own wording.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { HttpRouter, HttpRoutes, json, RequestBodyNotJson, RequestBodyNotObject, RequestBodyTooLarge, text } from "../../http/http-router.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** Routes that name each kind of failure, so a test sees which one the router raised. */
const routes = () =>
  new HttpRoutes({
    headers: { "cache-control": "no-store" },
    maxBodyBytes: 32,
    failure: (error, request) => {
      if (error instanceof RequestBodyTooLarge) return json(413, { error: "too large", limitBytes: error.limitBytes });
      if (error instanceof RequestBodyNotJson) return json(400, { error: "not JSON" });
      if (error instanceof RequestBodyNotObject) return json(400, { error: "not an object" });
      request.log(`${request.method} ${request.path}: ${error instanceof Error ? error.message : String(error)}`);
      return json(500, { error: "broken" });
    },
  });

const serve = async (router: HttpRouter) => {
  const server = createServer(router.handle);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const notFound = json(404, { error: "not found" });

test("calls the route for the method and path, with its parameters decoded and the query ignored", async () => {
  const url = await serve(new HttpRouter({ notFound }).mount(routes().get("/things/:thingId/parts/:part", ({ params }) => json(200, params))));
  const response = await fetch(`${url}/things/a%2Fb/parts/wheel?x=1`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ thingId: "a/b", part: "wheel" });
});

test("answers with its content type, the routes' headers and the answer's own", async () => {
  const url = await serve(
    new HttpRouter({ notFound }).mount(
      routes().get("/page", () => ({ ...text(201, "text/html; charset=utf-8", "<p>hi</p>"), headers: { "set-cookie": "a=b" } })),
    ),
  );
  const response = await fetch(`${url}/page`);
  expect(response.status).toBe(201);
  expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("set-cookie")).toBe("a=b");
  expect(await response.text()).toBe("<p>hi</p>");
});

test("answers the router's not-found for a path no route takes and for a method the path does not take", async () => {
  const url = await serve(new HttpRouter({ notFound: json(404, { error: "nothing here" }) }).mount(routes().get("/only-get", () => json(200, {}))));
  for (const [method, path] of [
    ["GET", "/elsewhere"],
    ["POST", "/only-get"],
  ] as const) {
    const response = await fetch(`${url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "nothing here" });
  }
});

test("a static route wins over a wildcard, which takes the rest of its prefix", async () => {
  const url = await serve(
    new HttpRouter({ notFound }).mount(
      routes()
        .post("/api/known", () => json(200, { route: "known" }))
        .on("ALL", "/api/*", () => json(404, { route: "rest" })),
    ),
  );
  expect(await (await fetch(`${url}/api/known`, { method: "POST" })).json()).toEqual({ route: "known" });
  expect(await (await fetch(`${url}/api/known`)).json()).toEqual({ route: "rest" });
  expect(await (await fetch(`${url}/api/x/y`, { method: "DELETE" })).json()).toEqual({ route: "rest" });
});

test("reads a JSON object body, and an empty body as {}", async () => {
  const url = await serve(new HttpRouter({ notFound }).mount(routes().post("/echo", async (request) => json(200, await request.body()))));
  expect(await (await fetch(`${url}/echo`, { method: "POST", body: '{"a":1}' })).json()).toEqual({ a: 1 });
  expect(await (await fetch(`${url}/echo`, { method: "POST" })).json()).toEqual({});
});

test("a body that cannot be read fails with its typed failure, answered as the routes map it", async () => {
  const url = await serve(new HttpRouter({ notFound }).mount(routes().post("/echo", async (request) => json(200, await request.body()))));
  const post = async (body: string) => {
    const response = await fetch(`${url}/echo`, { method: "POST", body });
    return { status: response.status, body: await response.json() };
  };
  expect(await post("{oops")).toEqual({ status: 400, body: { error: "not JSON" } });
  expect(await post("[1,2]")).toEqual({ status: 400, body: { error: "not an object" } });
  expect(await post("null")).toEqual({ status: 400, body: { error: "not an object" } });
  expect(await post(JSON.stringify({ long: "x".repeat(100) }))).toEqual({ status: 413, body: { error: "too large", limitBytes: 32 } });
});

test("a route that throws is answered by the routes' failure, which may log through the server", async () => {
  const logged: string[] = [];
  const broken = routes()
    .get("/sync", () => {
      throw new Error("sync bug");
    })
    .get("/async", async () => {
      throw new Error("async bug");
    });
  const url = await serve(new HttpRouter({ notFound, log: (line) => logged.push(line) }).mount(broken));
  for (const path of ["/sync", "/async?q=1"]) expect((await fetch(`${url}${path}`)).status).toBe(500);
  expect(logged).toEqual(["GET /sync: sync bug", "GET /async: async bug"]);
});

test("refuses two routes for one method and path", () => {
  const router = new HttpRouter({ notFound }).mount(routes().get("/x", () => json(200, {})));
  expect(() => router.mount(routes().get("/x", () => json(200, {})))).toThrow();
});
