// Counters, gauges and histograms rendered in the Prometheus text exposition format (0.0.4), for
// a node's /metrics endpoint. Small on purpose: the node updates them from plain code on hot
// paths (identification), so an update is a map lookup and an addition.
type Labels = Readonly<Record<string, string>>;

const labelKey = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]!.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");

const series = (name: string, key: string, value: number) => `${name}${key.length > 0 ? `{${key}}` : ""} ${Number.isFinite(value) ? value : value > 0 ? "+Inf" : "-Inf"}`;

interface Metric {
  readonly name: string;
  readonly help: string;
  render(): string[];
}

export class Counter implements Metric {
  readonly name: string;
  readonly help: string;
  readonly #values = new Map<string, number>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new RangeError("a counter only goes up");
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  value(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.#values].map(([k, v]) => series(this.name, k, v))];
  }
}

/** A gauge read when scraped, so it is never stale. */
export class Gauge implements Metric {
  readonly name: string;
  readonly help: string;
  readonly #read: () => readonly { readonly labels: Labels; readonly value: number }[];

  constructor(name: string, help: string, read: () => readonly { readonly labels: Labels; readonly value: number }[]) {
    this.name = name;
    this.help = help;
    this.#read = read;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...this.#read().map((s) => series(this.name, labelKey(s.labels), s.value))];
  }
}

export class Histogram implements Metric {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.#series) {
      const join = (extra: string) => [key, extra].filter((p) => p.length > 0).join(",");
      this.buckets.forEach((le, i) => lines.push(series(`${this.name}_bucket`, join(`le="${le}"`), s.counts[i]!)));
      lines.push(series(`${this.name}_bucket`, join('le="+Inf"'), s.count));
      lines.push(series(`${this.name}_sum`, key, s.sum));
      lines.push(series(`${this.name}_count`, key, s.count));
    }
    return lines;
  }
}

export class MetricRegistry {
  readonly #metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    if (this.#metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} is already registered`);
    this.#metrics.push(metric);
    return metric;
  }

  /** The whole registry in Prometheus text format. */
  render(): string {
    return `${this.#metrics.flatMap((m) => m.render()).join("\n")}\n`;
  }
}
