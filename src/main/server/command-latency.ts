// Owns one command's figures for the Prometheus endpoint: answers, errors and a latency histogram
// in plain numbers and one Float64Array, counted since the daemon started (CONFIG RESETSTAT does
// not touch them: Prometheus counters only go up). They exist only when metrics are on.

import type { LatencyDistribution } from '../index.js';

/**
 * Upper bounds of the command latency buckets, in seconds: 10 µs (a GET answered on the caller's
 * thread) to 2.5 s, roughly ×2–×2.5 apart.
 */
export const COMMAND_LATENCY_BOUNDS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1, 2.5,
];

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
    let i = 0;
    while (i < COMMAND_LATENCY_BOUNDS.length && seconds > COMMAND_LATENCY_BOUNDS[i]!) i++;
    this.perBucket[i]!++;
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
