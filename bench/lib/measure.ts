// Owns timing: synchronous loops measured in batches (one clock read per ~10 ms sample), and
// sliding windows that keep K async operations in flight. Both report the median rate over
// samples and a latency distribution; both count how many keys each operation found, so a
// scenario can check that hits hit and misses miss.

import { median, quantile } from './stats.js';

export interface Measurement {
  /** Median over samples of keys (or operations) per second. */
  readonly perSec: number;
  /** Samples behind the median. */
  readonly samples: number;
  /** Latency of one operation, µs: median and 99th percentile (NaN when not measured). */
  readonly p50Us: number;
  readonly p99Us: number;
  /** Operations and keys completed in the measured phase, and keys found among them. */
  readonly ops: number;
  readonly keys: number;
  readonly found: number;
}

export interface SyncOptions {
  readonly timeMs: number;
  /** Keys one call handles (the rate is in keys/s). Default 1. */
  readonly keysPerOp?: number;
  /** Run a separate latency pass timing every call (default true). */
  readonly latency?: boolean;
  /** Target length of one throughput sample, ms (default 10). */
  readonly sampleMs?: number;
}

export interface WindowOptions {
  readonly timeMs: number;
  /** Operations kept outstanding at all times. */
  readonly inFlight: number;
  readonly keysPerOp?: number;
  /** Length of one throughput slice, ms (default timeMs / 40, at least 20). */
  readonly sliceMs?: number;
}

/** Target length of one throughput sample of a synchronous loop. */
const SAMPLE_MS = 10;
/** Latency samples kept per task (enough for a stable p99). */
const MAX_LATENCIES = 200_000;
/** Async windows time one operation in this many, so the clock costs little. */
const TIMED_EVERY_MASK = 7;

/** Warm-up of a synchronous loop: enough for V8 to optimise the caller's code. */
function warmupMs(timeMs: number): number {
  return Math.min(500, Math.max(100, timeMs / 5));
}

/**
 * Warm-up of an async window: longer, because the work runs on other threads too (kvd's
 * reader pool reaches its steady rate only after ~1 s of traffic on the reference VM).
 */
export function windowWarmupMs(timeMs: number): number {
  return Math.min(1000, Math.max(300, timeMs / 2));
}

/**
 * Times `op` (called with 0, 1, 2, …; returns keys found) on the calling thread: a warm-up,
 * then samples of a fixed number of calls each timed as a whole, then (unless disabled) a
 * latency pass timing each call alone, whose clock reads are kept out of the rate.
 */
export function measureSync(op: (i: number) => number, options: SyncOptions): Measurement {
  const keysPerOp = options.keysPerOp ?? 1;
  let i = 0;
  // Warm-up, growing the chunk between clock reads so slow ops (fsync) do not overshoot.
  const warmStart = performance.now();
  let warmOps = 0;
  let chunk = 1;
  for (let now = warmStart; now - warmStart < warmupMs(options.timeMs); ) {
    const before = now;
    for (let k = 0; k < chunk; k++) op(i++);
    warmOps += chunk;
    now = performance.now();
    if (now - before < 1 && chunk < 4096) chunk *= 2;
  }
  const perMs = warmOps / (performance.now() - warmStart);
  const batch = Math.max(1, Math.round(perMs * (options.sampleMs ?? SAMPLE_MS)));

  const rates: number[] = [];
  let ops = 0;
  let found = 0;
  const start = performance.now();
  for (let now = start; now - start < options.timeMs; ) {
    const before = now;
    for (let k = 0; k < batch; k++) found += op(i++);
    now = performance.now();
    ops += batch;
    rates.push((batch * keysPerOp * 1000) / (now - before));
  }

  let p50Us = Number.NaN;
  let p99Us = Number.NaN;
  if (options.latency !== false) {
    const latencies = new Float64Array(MAX_LATENCIES);
    let n = 0;
    const end = performance.now() + Math.min(1000, Math.max(20, options.timeMs / 4));
    while (n < MAX_LATENCIES) {
      const a = performance.now();
      op(i++);
      const b = performance.now();
      latencies[n++] = b - a;
      if (b >= end) break;
    }
    const used = latencies.subarray(0, n);
    p50Us = quantile(used, 0.5) * 1000;
    p99Us = quantile(used, 0.99) * 1000;
  }
  return {
    perSec: median(rates),
    samples: rates.length,
    p50Us,
    p99Us,
    ops,
    keys: ops * keysPerOp,
    found,
  };
}

/**
 * Keeps `inFlight` calls of `op` outstanding (each of `inFlight` loops awaits one call, then
 * issues the next) for a warm-up and then `timeMs`. One call in eight is timed from issue to
 * settle; the rate is the median over ~50 ms slices of keys completed.
 */
export async function measureWindow(
  op: (i: number) => Promise<number>,
  options: WindowOptions,
): Promise<Measurement> {
  const keysPerOp = options.keysPerOp ?? 1;
  const sliceMs = options.sliceMs ?? Math.max(20, options.timeMs / 40);
  const warmEnd = performance.now() + windowWarmupMs(options.timeMs);
  const end = warmEnd + options.timeMs;
  const latencies = new Float64Array(MAX_LATENCIES);
  const rates: number[] = [];
  let n = 0;
  let i = 0;
  let stop = false;
  let measuring = false;
  let measureStart = 0;
  let measureEnd = 0;
  let sliceStart = 0;
  let sliceKeys = 0;
  let ops = 0;
  let found = 0;

  const loop = async (): Promise<void> => {
    while (!stop) {
      const call = i++;
      const timed = (call & TIMED_EVERY_MASK) === 0;
      const issued = timed ? performance.now() : 0;
      const f = await op(call);
      if (!timed) {
        if (measuring && !stop) {
          ops++;
          found += f;
          sliceKeys += keysPerOp;
        }
        continue;
      }
      const settled = performance.now();
      if (!measuring && settled >= warmEnd) {
        measuring = true;
        measureStart = sliceStart = settled;
      }
      if (!measuring || stop) continue;
      ops++;
      found += f;
      sliceKeys += keysPerOp;
      if (issued >= measureStart && n < MAX_LATENCIES) latencies[n++] = settled - issued;
      if (settled - sliceStart >= sliceMs) {
        rates.push((sliceKeys * 1000) / (settled - sliceStart));
        sliceStart = settled;
        sliceKeys = 0;
      }
      if (settled >= end) {
        stop = true;
        measureEnd = settled;
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, loop));

  const overall =
    measureEnd > measureStart ? (ops * keysPerOp * 1000) / (measureEnd - measureStart) : 0;
  const used = latencies.subarray(0, n);
  return {
    perSec: rates.length >= 3 ? median(rates) : overall,
    samples: rates.length,
    p50Us: quantile(used, 0.5) * 1000,
    p99Us: quantile(used, 0.99) * 1000,
    ops,
    keys: ops * keysPerOp,
    found,
  };
}

/** Wall time of one run of `fn`, in ms. */
export async function measureOnce(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
