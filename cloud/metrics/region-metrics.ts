// What a region node reports on /metrics (Prometheus text): live device sessions, live
// identities, identifications by outcome and their latency, the size of each shard, and
// identities deleted by expiry, and replication: records applied from peers and each peer's lag.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, MetricRegistry } from "./metric-registry.ts";

const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export class RegionMetrics {
  readonly registry = new MetricRegistry();
  readonly identifications = this.registry.register(new Counter("palmline_identifications_total", "Identifications decided by the region, by outcome."));
  readonly identificationSeconds = this.registry.register(
    new Histogram("palmline_identification_seconds", "Cloud-side identification latency: scatter, gather, re-rank, decide.", LATENCY_BUCKETS_SECONDS),
  );
  readonly identitiesExpired = this.registry.register(
    new Counter("palmline_identities_expired_total", "Identities deleted because nobody used them for two years."),
  );

  /** Registers the gauges, read from the node's parts when scraped; called once they exist. */
  watch(sources: { sessions: () => number; shardSizes: () => readonly number[]; enrolled: () => number }): void {
    this.registry.register(new Gauge("palmline_device_sessions", "Device sessions open on this node.", () => [{ labels: {}, value: sources.sessions() }]));
    this.registry.register(new Gauge("palmline_enrolled_identities", "Live identities in the registry.", () => [{ labels: {}, value: sources.enrolled() }]));
    this.registry.register(
      new Gauge("palmline_shard_identities", "Identities indexed per shard.", () => sources.shardSizes().map((value, shard) => ({ labels: { shard: String(shard) }, value }))),
    );
  }

  readonly replicatedRecords = this.registry.register(
    new Counter("palmline_replication_records_applied_total", "Records from peer regions whose merge changed this registry."),
  );

  /** Registers the lag gauge once the replication service exists. */
  watchReplication(lag: () => readonly { readonly peer: string; readonly seconds: number }[]): void {
    this.registry.register(
      new Gauge("palmline_replication_lag_seconds", "Age of the oldest local change a peer region has not acknowledged (0: it has them all).", () =>
        lag().map((p) => ({ labels: { peer: p.peer }, value: p.seconds })),
      ),
    );
  }

  recordReplicated(changed: number): void {
    this.replicatedRecords.inc({}, changed);
  }

  recordIdentification(outcome: string, seconds: number): void {
    this.identifications.inc({ outcome });
    this.identificationSeconds.observe(seconds);
  }

  /** The GET /metrics route. */
  route(): (req: IncomingMessage, res: ServerResponse) => boolean {
    return (req, res) => {
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") return false;
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
      res.end(this.registry.render());
      return true;
    };
  }
}
