import { describe, expect, test } from "vitest";
import { Counter, Gauge, Histogram, MetricRegistry } from "../../cloud/metrics/metric-registry.ts";

describe("metric registry", () => {
  test("renders a labelled counter in Prometheus text format", () => {
    const registry = new MetricRegistry();
    const counter = registry.register(new Counter("palmline_identifications_total", "Identifications by outcome."));
    counter.inc({ outcome: "match" });
    counter.inc({ outcome: "match" });
    counter.inc({ outcome: "no-match" });
    expect(registry.render()).toBe(
      [
        "# HELP palmline_identifications_total Identifications by outcome.",
        "# TYPE palmline_identifications_total counter",
        'palmline_identifications_total{outcome="match"} 2',
        'palmline_identifications_total{outcome="no-match"} 1',
        "",
      ].join("\n"),
    );
  });

  test("renders cumulative histogram buckets with sum and count", () => {
    const registry = new MetricRegistry();
    const h = registry.register(new Histogram("latency_seconds", "Latency.", [0.01, 0.1]));
    h.observe(0.005);
    h.observe(0.05);
    h.observe(1);
    const lines = registry.render().split("\n");
    expect(lines).toContain('latency_seconds_bucket{le="0.01"} 1');
    expect(lines).toContain('latency_seconds_bucket{le="0.1"} 2');
    expect(lines).toContain('latency_seconds_bucket{le="+Inf"} 3');
    expect(lines).toContain("latency_seconds_sum 1.055");
    expect(lines).toContain("latency_seconds_count 3");
  });

  test("reads a gauge when scraped", () => {
    const registry = new MetricRegistry();
    let size = 3;
    registry.register(new Gauge("shard_size", "Identities per shard.", () => [{ labels: { shard: "0" }, value: size }]));
    size = 5;
    expect(registry.render()).toContain('shard_size{shard="0"} 5');
  });

  test("escapes quotes and backslashes in label values", () => {
    const c = new Counter("c_total", "c");
    c.inc({ reason: 'bad "frame" \\' });
    expect(c.render()).toContain('c_total{reason="bad \\"frame\\" \\\\"} 1');
  });

  test("refuses to count down", () => {
    expect(() => new Counter("c_total", "c").inc({}, -1)).toThrow(RangeError);
  });

  test("refuses two metrics with one name", () => {
    const registry = new MetricRegistry();
    registry.register(new Counter("x_total", "x"));
    expect(() => registry.register(new Counter("x_total", "x"))).toThrow(/already registered/);
  });
});
