// The region node's HTTP face, over a real socket: /healthz and /region for anyone, the operator
// API behind its bearer token with its body limit, and one answer for what no route takes.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startRegionNode } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import { tempDir } from "./fixtures.ts";

const TOKEN = "operator-secret";
let node: Awaited<ReturnType<typeof startRegionNode>>;

beforeAll(async () => {
  node = await startRegionNode({
    regionId: "h",
    dataDir: tempDir(),
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock: systemClock,
    log: () => {},
    operatorToken: TOKEN,
  });
}, 60_000);
afterAll(() => node?.close());

const call = async (method: string, path: string, options: { body?: string; token?: string } = {}) => {
  const response = await fetch(`${node.httpUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}) },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    cache: response.headers.get("cache-control"),
    body: (await response.json()) as Record<string, unknown>,
  };
};

describe("public routes", () => {
  test("/healthz says the node is up, with its region and counts", async () => {
    const answer = await call("GET", "/healthz");
    expect(answer).toMatchObject({ status: 200, type: "application/json", cache: "no-store", body: { status: "ok", regionId: "h", enrolled: 0 } });
  });

  test("/region gives the identity key a device pins and the protocol version", async () => {
    const answer = await call("GET", "/region?any=query");
    expect(answer.status).toBe(200);
    expect(answer.body.identityPublicKey).toBe(Buffer.from(node.identityPublicKey).toString("base64"));
    expect(typeof answer.body.protocolVersion).toBe("number");
  });

  test("a path no route takes, or a method a path does not take, is not found", async () => {
    expect(await call("GET", "/nowhere")).toEqual({ status: 404, type: "application/json", cache: "no-store", body: { error: "not found" } });
    expect((await call("POST", "/healthz")).status).toBe(404);
  });
});

/** A call with the headers a browser or a rebinding page would send (fetch may not set Host). */
const rawCall = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const url = new URL(node.httpUrl);
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.once("error", reject);
    req.end(body);
  });

describe("operator API", () => {
  test("refuses a call a web page of another origin makes, even with the token", async () => {
    const answer = await rawCall("GET", "/api/identities/id_x/entitlements", { origin: "http://shop.example", authorization: `Bearer ${TOKEN}` });
    expect(answer).toEqual({ status: 403, body: { error: "calls from another origin are refused" } });
  });

  test("refuses a call to a host name rebound to the node's address, even with the token", async () => {
    const answer = await rawCall("GET", "/api/identities/id_x/entitlements", {
      host: `rebound.example:${new URL(node.httpUrl).port}`,
      authorization: `Bearer ${TOKEN}`,
    });
    expect(answer).toEqual({ status: 403, body: { error: "this host name is not the server's" } });
  });

  test("takes a body only as application/json: a page's text/plain request is no call", async () => {
    const body = JSON.stringify({ loyaltyCard: "LOY-1" });
    const answer = await rawCall("PUT", "/api/identities/id_x/loyalty-card", { "content-type": "text/plain", authorization: `Bearer ${TOKEN}` }, body);
    expect(answer).toEqual({ status: 415, body: { error: "the body must be application/json" } });
  });

  test("answers the operator's own tools, which name the node by address and send no Origin", async () => {
    const answer = await rawCall("GET", "/api/identities/id_x/entitlements", { authorization: `Bearer ${TOKEN}` });
    expect(answer).toEqual({ status: 200, body: { entitlements: [] } });
  });

  test("refuses a call without the operator's bearer token, on any path under /api/", async () => {
    for (const path of ["/api/identities/id_x/entitlements", "/api/nowhere"]) {
      expect(await call("GET", path)).toMatchObject({ status: 401, body: { error: "operator token required" } });
      expect(await call("GET", path, { token: "guess" })).toMatchObject({ status: 401, body: { error: "operator token required" } });
    }
  });

  test("answers a call with the token, and says not found for an operation it does not have", async () => {
    expect(await call("GET", "/api/identities/id_x/entitlements", { token: TOKEN })).toMatchObject({ status: 200, body: { entitlements: [] } });
    expect(await call("GET", "/api/nowhere", { token: TOKEN })).toMatchObject({ status: 404, cache: "no-store", body: { error: "not found" } });
  });

  test("refuses a body that is not JSON, and one over 64 KiB", async () => {
    expect(await call("POST", "/api/entitlements", { token: TOKEN, body: "{not json" })).toMatchObject({ status: 400, body: { error: "invalid JSON" } });
    const large = JSON.stringify({ label: "x".repeat(64 * 1024) });
    expect(await call("POST", "/api/entitlements", { token: TOKEN, body: large })).toMatchObject({ status: 413, body: { error: "body too large" } });
  });

  test("checks the input of an operation and names what is missing", async () => {
    const answer = await call("POST", "/api/entitlements", { token: TOKEN, body: JSON.stringify({ identityId: "id_nobody", kind: "ticket" }) });
    expect(answer).toMatchObject({ status: 404, body: { error: "no live identity for that id or phone" } });
    expect(await call("DELETE", "/api/entitlements/ent_unknown", { token: TOKEN })).toMatchObject({ status: 404, body: { error: "unknown entitlement" } });
    const loyalty = await call("PUT", "/api/identities/id_nobody/loyalty-card", { token: TOKEN, body: JSON.stringify({ loyaltyCard: "LOY-1" }) });
    expect(loyalty).toMatchObject({ status: 422, body: { error: "a live identity and a loyaltyCard are required" } });
  });
});

describe("portal", () => {
  test("serves its page at /portal and /portal/, never cached", async () => {
    for (const path of ["/portal", "/portal/"]) {
      const response = await fetch(`${node.httpUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(await response.text()).toContain("<title>palmline");
    }
  });

  test("asks a stranger to sign in first for anything under /portal/api/, and finds nothing elsewhere", async () => {
    for (const [method, path] of [
      ["GET", "/portal/api/me"],
      ["POST", "/portal/api/delete"],
      ["GET", "/portal/api/code"],
      ["GET", "/portal/api/nowhere"],
    ]) {
      expect(await call(method!, path!)).toMatchObject({ status: 401, cache: "no-store", body: { error: "sign in first" } });
    }
    expect(await call("GET", "/portal/nowhere")).toMatchObject({ status: 404, body: { error: "not found" } });
  });

  test("says what is wrong with a sign-in request it cannot read", async () => {
    expect(await call("POST", "/portal/api/code", { body: "{nope" })).toMatchObject({ status: 400, body: { error: "body is not JSON" } });
    expect(await call("POST", "/portal/api/code", { body: "[]" })).toMatchObject({ status: 400, body: { error: "body must be a JSON object" } });
    const large = JSON.stringify({ phone: "+447700900123", pad: "x".repeat(4 * 1024) });
    expect(await call("POST", "/portal/api/code", { body: large })).toMatchObject({ status: 400, body: { error: "request too large" } });
    expect(await call("POST", "/portal/api/code", { body: JSON.stringify({ phone: "0770" }) })).toMatchObject({
      status: 400,
      body: { error: "enter the phone number in international form, e.g. +447700900123" },
    });
  });
});
