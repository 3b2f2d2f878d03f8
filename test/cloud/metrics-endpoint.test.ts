// A node's /metrics, scraped over HTTP after real traffic.
import { afterEach, expect, test } from "vitest";
import { startRegionNode } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { RegionLink } from "../../edge/region-link.ts";
import { sealForOneRequest, syntheticPalm, tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("/metrics reports sessions, identifications by outcome, their latency and shard sizes", async () => {
  const node = await startRegionNode({ regionId: "m", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 2, clock: systemClock, log: () => {} });
  cleanups.push(() => node.close());
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: node.identityPublicKey, deviceName: "lane" });
  const link = await RegionLink.connect({ credentials, provisioningCode: node.issueProvisioningCode({ roles: ["service-point"] }) });
  cleanups.push(() => link.close());
  await link.identify(await sealForOneRequest(link, syntheticPalm(4)(0)));

  const res = await fetch(`${node.httpUrl}/metrics`);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(res.headers.get("cache-control")).toBe("no-store");
  const text = await res.text();
  expect(text).toContain(
    "# HELP palmline_device_sessions Device sessions open on this node.\n# TYPE palmline_device_sessions gauge\npalmline_device_sessions 1\n",
  );
  expect(text).toContain("palmline_device_sessions 1");
  expect(text).toContain('palmline_identifications_total{outcome="no-match"} 1');
  expect(text).toContain("palmline_identification_seconds_count 1");
  expect(text).toContain('palmline_shard_identities{shard="0"} 0');
  expect(text).toContain('palmline_shard_identities{shard="1"} 0');
});
