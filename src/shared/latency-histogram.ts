// Owns a latency distribution kept as counts in fixed buckets (the writer's fsync timings): one
// thread records into plain arrays without allocating, and a copy in Prometheus's cumulative
// form (`le`) crosses threads as a plain object inside `WriterStats`.

/**
 * A latency distribution in fixed buckets, as Prometheus histograms carry it. `counts[i]` is the
 * number of observations that took at most `bounds[i]` seconds (cumulative); the last bucket,
 * `+Inf`, is implicit: it holds `count`.
 */
export interface LatencyDistribution {
  /** Observations so far. */
  readonly count: number;
  /** Their total, in seconds. */
  readonly seconds: number;
  /** The buckets' upper bounds in seconds, ascending. */
  readonly bounds: readonly number[];
  /** Observations of at most `bounds[i]` seconds, for each `i` (non-decreasing). */
  readonly counts: readonly number[];
}

/**
 * Bucket bounds of the log's fdatasync timings, in seconds: 50 µs (a page-cache-only device) to
 * 2.5 s (a stalled disk), roughly ×2–×2.5 apart.
 */
export const SYNC_LATENCY_BOUNDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * Records latencies into fixed buckets. One thread records; `snapshot` copies the figures out.
 * Recording allocates nothing.
 */
export class LatencyHistogram {
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  private readonly perBucket: Float64Array;
  private count = 0;
  private seconds = 0;

  /** `bounds`: the buckets' upper bounds in seconds, ascending. */
  constructor(readonly bounds: readonly number[]) {
    this.perBucket = new Float64Array(bounds.length + 1);
  }

  /** Counts one observation of `seconds`. */
  record(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.perBucket[i]!++;
    this.count++;
    this.seconds += seconds;
  }

  /** The figures so far, cumulative per bucket (a new object; the histogram keeps counting). */
  snapshot(): LatencyDistribution {
    const counts: number[] = [];
    let total = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      total += this.perBucket[i]!;
      counts.push(total);
    }
    return { count: this.count, seconds: this.seconds, bounds: this.bounds, counts };
  }
}
