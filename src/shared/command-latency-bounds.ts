// Owns the upper bounds of the daemon's command latency buckets (the Prometheus histogram of
// `--metrics-port`), defined once for the main thread's counters and the network threads'.

/**
 * Upper bounds of the command latency buckets, in seconds: 10 µs (a GET answered on the caller's
 * thread) to 2.5 s, roughly ×2–×2.5 apart. One more bucket counts what is above every bound.
 */
export const COMMAND_LATENCY_BOUNDS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1, 2.5,
];

/** The bucket `seconds` falls in: the first whose bound it does not exceed. */
export function latencyBucket(seconds: number): number {
  let i = 0;
  while (i < COMMAND_LATENCY_BOUNDS.length && seconds > COMMAND_LATENCY_BOUNDS[i]!) i++;
  return i;
}
