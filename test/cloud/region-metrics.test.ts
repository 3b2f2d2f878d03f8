// What a node's metrics say, in Prometheus text format (0.0.4), read from RegionMetrics directly.
import { describe, expect, test } from "vitest";
import { RegionMetrics } from "../../cloud/metrics/region-metrics.ts";

const lines = async (metrics: RegionMetrics) => (await metrics.text()).split("\n");

describe("region metrics", () => {
  test("counts identifications by outcome, with their help and type", async () => {
    const metrics = new RegionMetrics();
    metrics.recordIdentification("match", 0.002);
    metrics.recordIdentification("match", 0.003);
    metrics.recordIdentification("no-match", 0.004);
    const text = await metrics.text();
    expect(text).toContain(
      [
        "# HELP palmline_identifications_total Identifications decided by the region, by outcome.",
        "# TYPE palmline_identifications_total counter",
        'palmline_identifications_total{outcome="match"} 2',
        'palmline_identifications_total{outcome="no-match"} 1',
      ].join("\n"),
    );
  });

  test("records identification latency as cumulative buckets with sum and count", async () => {
    const metrics = new RegionMetrics();
    for (const seconds of [0.0005, 0.02, 2]) metrics.recordIdentification("no-match", seconds);
    const text = await lines(metrics);
    expect(text).toEqual(
      expect.arrayContaining([
        "# TYPE palmline_identification_seconds histogram",
        'palmline_identification_seconds_bucket{le="0.001"} 1',
        'palmline_identification_seconds_bucket{le="0.025"} 2',
        'palmline_identification_seconds_bucket{le="1"} 2',
        'palmline_identification_seconds_bucket{le="+Inf"} 3',
        "palmline_identification_seconds_sum 2.0205",
        "palmline_identification_seconds_count 3",
      ]),
    );
  });

  test("reads sessions, live identities and shard sizes when scraped", async () => {
    const metrics = new RegionMetrics();
    let shardSizes = [3, 4];
    metrics.watch({ sessions: () => 2, enrolled: () => 7, shardSizes: () => shardSizes });
    shardSizes = [5, 4];
    const text = await lines(metrics);
    expect(text).toEqual(expect.arrayContaining(["# TYPE palmline_device_sessions gauge", "palmline_device_sessions 2", "palmline_enrolled_identities 7"]));
    expect(text).toEqual(expect.arrayContaining(['palmline_shard_identities{shard="0"} 5', 'palmline_shard_identities{shard="1"} 4']));
  });

  test("a series gone from its source is gone from the next scrape", async () => {
    const metrics = new RegionMetrics();
    let lag = [{ peer: "west", seconds: 4 }];
    metrics.watchReplication(() => lag);
    expect(await lines(metrics)).toContain('palmline_replication_lag_seconds{peer="west"} 4');
    lag = [];
    expect((await metrics.text()).includes('peer="west"')).toBe(false);
  });

  test("counts expired identities and replicated records by the number given", async () => {
    const metrics = new RegionMetrics();
    metrics.identitiesExpired.inc({}, 3);
    metrics.recordReplicated(5);
    metrics.recordReplicated(2);
    const text = await lines(metrics);
    expect(text).toContain("palmline_identities_expired_total 3");
    expect(text).toContain("palmline_replication_records_applied_total 7");
  });

  test("reports probing per device, escaping quotes and backslashes in the device's name", async () => {
    const metrics = new RegionMetrics();
    metrics.watchProbes({ failures: new Map([['lane "7" \\', 4]]), refused: new Map([["lane-2", 1]]) });
    const text = await lines(metrics);
    expect(text).toContain('palmline_device_identification_failures{device="lane \\"7\\" \\\\"} 4');
    expect(text).toContain('palmline_device_probe_refusals{device="lane-2"} 1');
  });

  test("each node counts in its own registry", async () => {
    const first = new RegionMetrics();
    const second = new RegionMetrics();
    first.recordIdentification("match", 0.001);
    expect(await lines(first)).toContain('palmline_identifications_total{outcome="match"} 1');
    expect((await second.text()).includes('outcome="match"')).toBe(false);
  });

  test("refuses a second gauge with a name already reported", () => {
    const metrics = new RegionMetrics();
    metrics.watchReplication(() => []);
    expect(() => metrics.watchReplication(() => [])).toThrow(/already been registered/);
  });
});
