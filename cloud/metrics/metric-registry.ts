// Transitional (issue #14): metrics are prom-client's now (region-metrics.ts). This keeps
// region-node.ts's `metrics.registry.register(new Gauge(name, help, read))` working until it calls
// RegionMetrics.watchProbes instead; delete this file then.
import { Gauge as PromGauge } from "prom-client";

type Series = readonly { readonly labels: Readonly<Record<string, string>>; readonly value: number }[];
type Scraped = Awaited<ReturnType<PromGauge["get"]>>;

/** A gauge whose series, labels included, are read when scraped. */
export class Gauge extends PromGauge {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => Series;

  constructor(name: string, help: string, read: () => Series) {
    super({ name, help, registers: [] });
    this.#name = name;
    this.#help = help;
    this.#read = read;
  }

  override async get(): Promise<Scraped> {
    const values = this.#read().map((s) => ({ labels: { ...s.labels }, value: s.value }));
    return { name: this.#name, help: this.#help, type: "gauge", aggregator: "sum", values } as unknown as Scraped;
  }
}
