/**
 * A small Prometheus text-format registry: counters, gauges and histograms with labels.
 * Label values are escaped; nothing secret is ever used as a label (provider names, not keys).
 */

type Labels = Record<string, string>;

const labelKeyCache = new Map<string, string>();

/** The rendered label set, cached: label sets repeat on every request, sorting and escaping them need not. */
function labelKey(labels: Labels): string {
  let raw = '';
  for (const key in labels) raw += `${key}\u0001${labels[key]}\u0002`;
  if (raw === '') return '';
  let rendered = labelKeyCache.get(raw);
  if (rendered === undefined) {
    rendered = Object.keys(labels)
      .sort()
      .map(
        (key) =>
          `${key}="${String(labels[key]).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
      )
      .join(',');
    // Bounded: label values come from config (providers, models, endpoints), so this stays small.
    if (labelKeyCache.size < 10_000) labelKeyCache.set(raw, rendered);
  }
  return rendered;
}

interface Metric {
  render(): string;
}

/** A monotonically increasing counter. */
export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, amount = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + amount);
  }
  /** A handle on one label set, for hot paths: the labels are rendered once, not per call. */
  handle(labels: Labels = {}): { inc(amount?: number): void } {
    const key = labelKey(labels);
    const values = this.values;
    return {
      inc(amount = 1) {
        values.set(key, (values.get(key) ?? 0) + amount);
      },
    };
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [key, value] of this.values) out += `${this.name}${key ? `{${key}}` : ''} ${value}\n`;
    return out;
  }
}

/** A value that goes up and down, or is computed when scraped. */
export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: (gauge: Gauge) => void,
  ) {}
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }
  render(): string {
    this.collect?.(this);
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const [key, value] of this.values) out += `${this.name}${key ? `{${key}}` : ''} ${value}\n`;
    return out;
  }
}

/** A histogram with fixed buckets. */
export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    this.record(labelKey(labels), value);
  }
  /** A handle on one label set, for hot paths: the labels are rendered once, not per call. */
  handle(labels: Labels): { observe(value: number): void } {
    const key = labelKey(labels);
    return { observe: (value) => this.record(key, value) };
  }
  private record(key: string, value: number): void {
    let entry = this.series.get(key);
    if (!entry) {
      entry = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    // One increment in the first bucket that holds the value; render() makes the counts cumulative.
    let index = 0;
    while (index < this.buckets.length && value > (this.buckets[index] as number)) index += 1;
    if (index < this.buckets.length) entry.counts[index] = (entry.counts[index] as number) + 1;
    entry.sum += value;
    entry.count += 1;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [key, entry] of this.series) {
      const prefix = key ? `${key},` : '';
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += entry.counts[index] as number;
        out += `${this.name}_bucket{${prefix}le="${bound}"} ${cumulative}\n`;
      });
      out += `${this.name}_bucket{${prefix}le="+Inf"} ${entry.count}\n`;
      out += `${this.name}_sum${key ? `{${key}}` : ''} ${entry.sum}\n`;
      out += `${this.name}_count${key ? `{${key}}` : ''} ${entry.count}\n`;
    }
    return out;
  }
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const overheadBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

/** The proxy's metrics. */
export interface ProxyMetrics {
  requests: Counter;
  duration: Histogram;
  overhead: Histogram;
  fallbacks: Counter;
  upstreamFailures: Counter;
  tokens: Counter;
  cost: Counter;
  breakerState: Gauge;
  inFlight: Gauge;
  render(): string;
}

/**
 * Creates the proxy's metrics.
 * @param collectBreakers fills the breaker-state gauge when scraped
 * @param collectInFlight fills the in-flight gauge when scraped
 * @returns the metrics and a renderer of the Prometheus text format
 */
export function createProxyMetrics(
  collectBreakers: (gauge: Gauge) => void,
  collectInFlight: (gauge: Gauge) => void,
): ProxyMetrics {
  const metrics = {
    requests: new Counter('ballast_proxy_requests_total', 'Requests by endpoint, provider and status.'),
    duration: new Histogram(
      'ballast_proxy_request_duration_seconds',
      'Whole request time by endpoint.',
      latencyBuckets,
    ),
    overhead: new Histogram(
      'ballast_proxy_overhead_seconds',
      'Time the proxy itself added to a request.',
      overheadBuckets,
    ),
    fallbacks: new Counter(
      'ballast_proxy_fallbacks_total',
      'Moves to the next target, by the target left and why.',
    ),
    upstreamFailures: new Counter(
      'ballast_proxy_upstream_failures_total',
      'Failed upstream attempts by provider and kind.',
    ),
    tokens: new Counter(
      'ballast_proxy_tokens_total',
      'Tokens by provider, model and kind (input, output, cached_input).',
    ),
    cost: new Counter('ballast_proxy_cost_usd_total', 'Spend in USD by provider and model.'),
    breakerState: new Gauge(
      'ballast_proxy_breaker_state',
      'Circuit breaker per target: 0 closed, 1 half-open, 2 open; quota_blocked 1 while its quota is exhausted.',
      collectBreakers,
    ),
    inFlight: new Gauge('ballast_proxy_in_flight_requests', 'Requests being served.', collectInFlight),
  };
  return {
    ...metrics,
    render: () =>
      Object.values(metrics)
        .map((metric) => metric.render())
        .join(''),
  };
}
