// What a region node reports on /metrics (Prometheus text, through prom-client): live device
// sessions, live identities, identifications by outcome and their latency, the size of each shard,
// identities deleted by expiry, per device the failed identifications and probe refusals, and
// replication: records applied from peers and each peer's lag. Each node has its own registry
// (never prom-client's global one): several nodes run in one test process.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { HttpRoutes, json, text } from "../../http/http-router.ts";
import { carriesBearerToken } from "../../http/bearer-token.ts";

const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

type Series<L extends string> = readonly { readonly labels: Readonly<Record<L, string>>; readonly value: number }[];

/** A gauge read from the node's parts when scraped, so it is never stale. */
const scrapedGauge = <L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: () => Series<L>) =>
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of read()) this.set(s.labels as Partial<Record<L, string>>, s.value);
    },
  });

export class RegionMetrics {
  readonly registry = new Registry();
  readonly identifications = new Counter({
    name: "palmline_identifications_total",
    help: "Identifications decided by the region, by outcome.",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly identificationSeconds = new Histogram({
    name: "palmline_identification_seconds",
    help: "Cloud-side identification latency: scatter, gather, re-rank, decide.",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });
  readonly identitiesExpired = new Counter({
    name: "palmline_identities_expired_total",
    help: "Identities deleted because nobody used them for two years.",
    registers: [this.registry],
  });
  readonly replicatedRecords = new Counter({
    name: "palmline_replication_records_applied_total",
    help: "Records from peer regions whose merge changed this registry.",
    registers: [this.registry],
  });

  /** Registers the gauges, read from the node's parts when scraped; called once they exist. */
  watch(sources: { sessions: () => number; shardSizes: () => readonly number[]; enrolled: () => number }): void {
    scrapedGauge(this.registry, "palmline_device_sessions", "Device sessions open on this node.", [], () => [{ labels: {}, value: sources.sessions() }]);
    scrapedGauge(this.registry, "palmline_enrolled_identities", "Live identities in the registry.", [], () => [{ labels: {}, value: sources.enrolled() }]);
    scrapedGauge(this.registry, "palmline_shard_identities", "Identities indexed per shard.", ["shard"], () =>
      sources.shardSizes().map((value, shard) => ({ labels: { shard: String(shard) }, value })),
    );
  }

  /** Registers the per-device probing gauges (cloud/session/probe-guard.ts), counts since start. */
  watchProbes(probes: { readonly failures: ReadonlyMap<string, number>; readonly refused: ReadonlyMap<string, number> }): void {
    const perDevice = (counts: ReadonlyMap<string, number>) => () => [...counts].map(([device, value]) => ({ labels: { device }, value }));
    scrapedGauge(
      this.registry,
      "palmline_device_identification_failures",
      "No-matches, step-ups and refused phone digits per device since start.",
      ["device"],
      perDevice(probes.failures),
    );
    scrapedGauge(
      this.registry,
      "palmline_device_probe_refusals",
      "Requests refused because the device presented too many unrecognised palms, per device since start.",
      ["device"],
      perDevice(probes.refused),
    );
  }

  /** Registers the lag gauge once the replication service exists. */
  watchReplication(lag: () => readonly { readonly peer: string; readonly seconds: number }[]): void {
    scrapedGauge(
      this.registry,
      "palmline_replication_lag_seconds",
      "Age of the oldest local change a peer region has not acknowledged (0: it has them all).",
      ["peer"],
      () => lag().map((p) => ({ labels: { peer: p.peer }, value: p.seconds })),
    );
  }

  recordReplicated(changed: number): void {
    this.replicatedRecords.inc(changed);
  }

  recordIdentification(outcome: string, seconds: number): void {
    this.identifications.inc({ outcome });
    this.identificationSeconds.observe(seconds);
  }

  /** The whole registry in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The GET /metrics route; with a token, a scrape must carry it as a bearer token. */
  route(token?: string): HttpRoutes {
    return new HttpRoutes({
      headers: { "cache-control": "no-store" },
      maxBodyBytes: 0,
      failure: (error, request) => {
        request.log(`metrics not rendered: ${error instanceof Error ? error.message : String(error)}`);
        return json(500, { error: "internal error" });
      },
    }).get("/metrics", async ({ req }) =>
      token !== undefined && !carriesBearerToken(req, token)
        ? json(401, { error: "metrics token required" })
        : text(200, this.registry.contentType, await this.registry.metrics()),
    );
  }
}
