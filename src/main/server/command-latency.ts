// Owns one command's figures for the Prometheus endpoint: answers, errors and a latency histogram
// in plain numbers and one Float64Array, counted since the daemon started (CONFIG RESETSTAT does
// not touch them: Prometheus counters only go up). They exist only when metrics are on.

import { COMMAND_LATENCY_BOUNDS, latencyBucket } from '../../shared/command-latency-bounds.js';
import type { LatencyDistribution } from '../index.js';

export { COMMAND_LATENCY_BOUNDS };

/**
 * One command's monotonic counters and latency buckets. Main thread. Counting allocates
 * nothing; `distribution` copies the buckets out at scrape time.
 */
export class CommandLatency {
  /** Requests answered: every call that ran, and those refused before running (arity, NOAUTH). */
  calls = 0;
  /** Requests answered with an error, refused ones included. */
  errors = 0;
  /** Calls that ran (the histogram's count; `calls` minus the refused ones). */
  private timed = 0;
  private seconds = 0;
  /** Calls per bucket (not cumulative); the last one is above every bound. */
  private readonly perBucket = new Float64Array(COMMAND_LATENCY_BOUNDS.length + 1);

  /** Counts a call that ran for `seconds` (handler start to reply ready); `failed`: an error reply. */
  observe(seconds: number, failed: boolean): void {
    this.calls++;
    if (failed) this.errors++;
    this.timed++;
    this.seconds += seconds;
    this.perBucket[latencyBucket(seconds)]!++;
  }

  /**
   * Counts `calls` calls that ran, none failed, `seconds` in all, `perBucket[i]` of them in
   * bucket i: what a network thread counted (network-threads.ts).
   */
  observeMany(calls: number, seconds: number, perBucket: ArrayLike<number>): void {
    this.calls += calls;
    this.timed += calls;
    this.seconds += seconds;
    for (let i = 0; i < this.perBucket.length; i++) this.perBucket[i]! += perBucket[i]!;
  }

  /** Counts `calls` calls that each ran for `seconds` and none failed (a run of plain GETs). */
  observeBatch(calls: number, seconds: number): void {
    this.calls += calls;
    this.timed += calls;
    this.seconds += seconds * calls;
    this.perBucket[latencyBucket(seconds)]! += calls;
  }

  /** Counts a call refused before it ran: answered with an error, not timed. */
  refuse(): void {
    this.calls++;
    this.errors++;
  }

  /** The latencies of the calls that ran so far, cumulative per bucket (a new object). */
  distribution(): LatencyDistribution {
    const counts: number[] = [];
    let total = 0;
    for (let i = 0; i < COMMAND_LATENCY_BOUNDS.length; i++) {
      total += this.perBucket[i]!;
      counts.push(total);
    }
    return { count: this.timed, seconds: this.seconds, bounds: COMMAND_LATENCY_BOUNDS, counts };
  }
}
