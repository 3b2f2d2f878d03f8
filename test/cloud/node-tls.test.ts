// A node served over TLS (issue #15, finding 5): scanners dial wss:// trusting the node's CA, a
// scanner that does not trust it or dials plain ws:// fails with a clear reason, the portal's
// session cookie is Secure, and a /metrics token, when configured, is required on every scrape.
import { Effect } from "effect";
import { execFile, spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SimulatedSmsGateway } from "../../cloud/phone/phone-verifier.ts";
import { startRegionNode } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import { newIdentityId } from "../../core/ids.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink, RegionUnavailable } from "../../edge/region-link.ts";
import { CloseCode } from "../../protocol/index.ts";
import { cliEntry, issueProvisioningCode, repoRoot, startRegionProcess } from "../support/region-process.ts";
import { makeTestCertificates } from "../support/test-certificates.ts";
import { syntheticTemplate, tempDir } from "./fixtures.ts";

const PHONE = "+447700900123";
const METRICS_TOKEN = "metrics-token-for-tests";
const certificates = makeTestCertificates();
const sms = new SimulatedSmsGateway();
let node: Awaited<ReturnType<typeof startRegionNode>>;

beforeAll(async () => {
  node = await startRegionNode({
    regionId: "t",
    dataDir: tempDir(),
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock: systemClock,
    log: () => {},
    sms,
    metricsToken: METRICS_TOKEN,
    tls: { cert: certificates.cert, key: certificates.key },
  });
}, 60_000);
afterAll(() => node?.close());

/** An HTTPS call trusting the test CA (fetch cannot be given a CA). */
const https = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(`${node.httpUrl}${path}`, { method, headers, ca: certificates.ca }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.once("error", reject);
    req.end(body);
  });

const credentialsFor = (regionUrl: string, name: string) => createDeviceCredentials({ regionUrl, pinnedRegionKey: node.identityPublicKey, deviceName: name });

test("a node with a certificate serves its HTTP and WebSocket port over TLS", async () => {
  expect([node.url.startsWith("wss://"), node.httpUrl.startsWith("https://")]).toEqual([true, true]);
  expect((await https("GET", "/healthz")).status).toBe(200);
  expect((await https("GET", "/api/replication", { authorization: `Bearer ${node.operatorToken}` })).status).toBe(200);
});

test("a scanner trusting the node's CA dials wss:// and is provisioned", async () => {
  const link = await RegionLink.connect({
    credentials: await credentialsFor(node.url, "lane-1"),
    provisioningCode: node.issueProvisioningCode({ roles: ["service-point"] }),
    tlsCa: certificates.ca,
  });
  try {
    expect(link.deviceId).toMatch(/^dev_/);
  } finally {
    link.close();
  }
});

test("a scanner that does not trust the node's certificate is refused at the TLS handshake", async () => {
  const dialled = RegionLink.connect({
    credentials: await credentialsFor(node.url, "lane-2"),
    provisioningCode: node.issueProvisioningCode({ roles: ["service-point"] }),
  });
  await expect(dialled).rejects.toBeInstanceOf(RegionUnavailable);
  await expect(dialled).rejects.toThrow(/certificate/);
});

test("a scanner dialling plain ws:// to the TLS port fails, told to dial wss://", async () => {
  const plainUrl = node.url.replace(/^wss:/, "ws:");
  const dialled = RegionLink.connect({
    credentials: await credentialsFor(plainUrl, "lane-3"),
    provisioningCode: node.issueProvisioningCode({ roles: ["service-point"] }),
  });
  await expect(dialled).rejects.toThrow(`dial wss:// instead of ${plainUrl}`);
});

test("over TLS the portal's session cookie is Secure", async () => {
  await Effect.runPromise(node.flows.registry.enroll([{ identityId: newIdentityId(), template: syntheticTemplate(1), profile: { phone: PHONE } }], Date.now()));
  const json = { "content-type": "application/json" };
  expect((await https("POST", "/portal/api/code", json, JSON.stringify({ phone: PHONE }))).status).toBe(202);
  const signedIn = await https("POST", "/portal/api/session", json, JSON.stringify({ phone: PHONE, code: sms.lastCodeFor(PHONE) }));
  expect(signedIn.status).toBe(200);
  expect(signedIn.headers["set-cookie"]?.[0]).toMatch(/^palmline_portal=[^;]+; HttpOnly; SameSite=Strict; Path=\/portal; Secure; Max-Age=\d+$/);
});

test("with a metrics token configured, a scrape without it is refused", async () => {
  expect((await https("GET", "/metrics")).status).toBe(401);
  expect((await https("GET", "/metrics", { authorization: "Bearer metrics-token-for-testz" })).status).toBe(401);
  const scraped = await https("GET", "/metrics", { authorization: `Bearer ${METRICS_TOKEN}` });
  expect([scraped.status, scraped.body.includes("palmline_device_sessions")]).toEqual([200, true]);
});

test("palmline cloud --tls-cert --tls-key serves wss://, and palmline device revoke reaches it trusting the CA through NODE_EXTRA_CA_CERTS", async () => {
  const dir = tempDir();
  const secret = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const [cert, key, ca, tokenFile] = [
    secret("cert.pem", certificates.cert),
    secret("key.pem", certificates.key),
    secret("ca.pem", certificates.ca),
    secret("token", "operator-token-in-a-file\n"),
  ];
  const dataDir = join(dir, "data");
  const region = await startRegionProcess(dataDir, ["--tls-cert", cert, "--tls-key", key, "--operator-token-file", tokenFile]);
  try {
    expect(region.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const credentials = await createDeviceCredentials({ regionUrl: region.url, pinnedRegionKey: region.identityPublicKey, deviceName: "lane-1" });
    const link = await RegionLink.connect({
      credentials,
      provisioningCode: issueProvisioningCode(dataDir, ["--role", "service-point"]),
      tlsCa: certificates.ca,
    });
    const revoked = await new Promise<number | null>((resolve) =>
      execFile(
        process.execPath,
        [cliEntry, "device", "revoke", "--node", region.httpUrl, "--device", link.deviceId, "--operator-token-file", tokenFile],
        { cwd: repoRoot, env: { ...process.env, NODE_EXTRA_CA_CERTS: ca } },
        (error) => resolve(error === null ? 0 : (error.code as number)),
      ),
    );
    expect(revoked).toBe(0);
    expect((await link.closed).code).toBe(CloseCode.DeviceRevoked);
  } finally {
    region.child.kill("SIGTERM");
    await region.exited;
  }
}, 60_000);

test("palmline cloud refuses a TLS key other users can read, in one line", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "cert.pem"), certificates.cert);
  writeFileSync(join(dir, "key.pem"), certificates.key);
  chmodSync(join(dir, "key.pem"), 0o640);
  const run = spawnSync(
    process.execPath,
    [cliEntry, "cloud", "--data", join(dir, "data"), "--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem")],
    {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  expect(run.status).toBe(2);
  expect(run.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining(`${join(dir, "key.pem")} refused: its mode 0640 lets other users read it`)]);
});
