// Peer regions over TLS: a region served with --tls-cert/--tls-key is dialled by its peer at
// wss://, the peer trusting the private CA through NODE_EXTRA_CA_CERTS (docs/security.md), and
// the link comes up as it does in clear; the secure channel inside is unchanged.
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { expect, test } from "vitest";
import { tempDir } from "../cloud/fixtures.ts";
import { regionKeyIn, writeFederationList } from "../support/federation-lists.ts";
import { waitFor } from "../support/region-federation.ts";
import { startRegionProcess, type RegionProcess } from "../support/region-process.ts";
import { makeTestCertificates } from "../support/test-certificates.ts";

const certificates = makeTestCertificates();

/** GET /api/replication over https, trusting the test CA. */
const replicationStatus = (region: RegionProcess) =>
  new Promise<{ peers: { regionId: string; connected: boolean }[] }>((resolve, reject) => {
    const req = request(`${region.httpUrl}/api/replication`, { ca: certificates.ca, headers: { authorization: `Bearer ${region.operatorToken}` } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve(JSON.parse(text) as { peers: { regionId: string; connected: boolean }[] }));
    });
    req.once("error", reject);
    req.end();
  });

test("a peer trusting the CA through NODE_EXTRA_CA_CERTS links with a region over wss://", async () => {
  const dir = tempDir();
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const tls = ["--tls-cert", file("cert.pem", certificates.cert), "--tls-key", file("key.pem", certificates.key)];
  const [keyA, keyB] = await Promise.all([regionKeyIn(join(dir, "a")), regionKeyIn(join(dir, "b"))]);
  const listOfA = writeFederationList(join(dir, "a.federation.json"), [{ regionId: "b", identityPublicKey: keyB }]);
  const previous = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = file("ca.pem", certificates.ca); // inherited by the regions started below
  const regions: RegionProcess[] = [];
  try {
    regions.push(await startRegionProcess(join(dir, "a"), ["--region", "a", "--federation", listOfA, ...tls]));
    expect(regions[0]!.url).toMatch(/^wss:\/\//);
    const listOfB = writeFederationList(join(dir, "b.federation.json"), [{ regionId: "a", identityPublicKey: keyA, url: regions[0]!.url }]);
    regions.push(await startRegionProcess(join(dir, "b"), ["--region", "b", "--federation", listOfB, ...tls]));
    const linked = await waitFor(async () => ((await replicationStatus(regions[1]!)).peers.some((p) => p.regionId === "a" && p.connected) ? true : undefined), {
      timeoutMs: 20_000,
      describe: () => regions[1]!.output.slice(-5).join("\n"),
    });
    expect(linked).toBe(true);
  } finally {
    if (previous === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = previous;
    for (const region of regions) region.child.kill("SIGTERM");
    await Promise.all(regions.map((region) => region.exited));
  }
}, 60_000);
