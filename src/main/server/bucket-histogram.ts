// Owns a prom-client metric for histograms already kept in fixed buckets elsewhere (the store's
// fsync timings, each command's latencies): at scrape time it reads them and hands the registry
// Prometheus's histogram lines (`_bucket` per `le`, `_sum`, `_count`). Nothing is observed
// through prom-client, so the daemon's hot path never touches it.

import type { Metric, Registry } from 'prom-client';
import type { LatencyDistribution } from '../index.js';

/** One series of a histogram: its labels (none for an unlabelled one) and its figures. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly distribution: LatencyDistribution;
}

/** A sample line as a prom-client Registry formats it (`metricName{labels} value`). */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/** What a prom-client Registry reads from a metric at scrape time (`get`). */
interface MetricReport {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: Sample[];
}

/**
 * A histogram whose series `read` returns at each scrape. Main thread. Register it with
 * `registerIn`, not `registry.registerMetric`.
 */
export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Iterable<HistogramSeries>,
  ) {}

  /** Registers it in `registry`. */
  registerIn(registry: Registry): void {
    // prom-client's typings list only its four classes as metrics (and a numeric MetricType its
    // runtime never uses); its Registry needs just `name` and `get()` (and `reset()`), which
    // this class has, so the one cast is here.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The samples of every series now (called by the Registry at scrape time). */
  async get(): Promise<MetricReport> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, distribution: d } of this.read()) {
      for (let i = 0; i < d.bounds.length; i++) {
        values.push({
          metricName: bucket,
          labels: { ...labels, le: d.bounds[i]! },
          value: d.counts[i]!,
        });
      }
      values.push({ metricName: bucket, labels: { ...labels, le: '+Inf' }, value: d.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: d.seconds });
      values.push({ metricName: `${this.name}_count`, labels, value: d.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }

  /** Nothing to reset: the figures belong to their owners (`Registry.resetMetrics`). */
  reset(): void {}
}
