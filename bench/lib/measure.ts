// Owns timing. Synchronous loops on one thread are timed by tinybench: a warm-up that also
// calibrates how many calls one sample holds (~10 ms), a throughput pass whose rate is every
// call ÷ the summed time of its samples (garbage collection inside them included), and a
// latency pass of its own, one call per sample, for the percentiles. A window of K async calls
// kept in flight is timed by hand below (tinybench times one call at a time, or unbounded
// concurrent calls, not a steady window). Both count how many keys each operation found, so a
// scenario can check that hits hit and misses miss.

import { Bench, type Task } from 'tinybench';
import { quantile } from './stats.js';

export interface Measurement {
  /** Keys (or operations) per second: all completed ÷ the whole measured time, GC included. */
  readonly perSec: number;
  /** Samples (sync) or slices (window) the measured time was split into. */
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

/** Length of the latency pass of a synchronous loop. */
function latencyMs(timeMs: number): number {
  return Math.min(1000, Math.max(20, timeMs / 4));
}

/**
 * Warm-up of an async window: longer, because the work runs on other threads too (kvd's
 * reader pool reaches its steady rate only after ~1 s of traffic on the reference VM).
 */
export function windowWarmupMs(timeMs: number): number {
  return Math.min(1000, Math.max(300, timeMs / 2));
}

/** Runs `fn` as one tinybench task for `timeMs` (at least one sample); returns its result. */
function runTask(fn: () => void, timeMs: number, retainSamples = false): TimedTask {
  const bench = new Bench({
    time: timeMs,
    iterations: 1,
    warmup: false,
    throws: true,
    retainSamples,
  });
  bench.add('task', fn);
  const [task] = bench.runSync();
  return timed(task);
}

/** What a finished task measured: calls, their summed time (ms), its latency percentiles (ms). */
interface TimedTask {
  readonly calls: number;
  readonly totalMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function timed(task: Task | undefined): TimedTask {
  const result = task?.result;
  if (result === undefined || !('totalTime' in result)) {
    throw new Error(`tinybench task did not complete (${result?.state ?? 'no result'})`);
  }
  return {
    calls: result.latency.samplesCount,
    totalMs: result.totalTime,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

/**
 * Times `op` (called with 0, 1, 2, …; returns keys found) on the calling thread with tinybench:
 * a warm-up of single calls that also gives the calls per ~10 ms sample, the throughput pass
 * (samples of that many calls; rate = calls ÷ summed sample time), then, unless disabled, a
 * latency pass of single calls for the percentiles, kept out of the rate.
 */
export function measureSync(op: (i: number) => number, options: SyncOptions): Measurement {
  const keysPerOp = options.keysPerOp ?? 1;
  let i = 0;
  let found = 0;
  const single = (): void => {
    found += op(i++);
  };
  const warm = runTask(single, warmupMs(options.timeMs));
  const perCallMs = warm.totalMs / Math.max(1, warm.calls);
  const batch = Math.max(
    1,
    Math.round((options.sampleMs ?? SAMPLE_MS) / Math.max(perCallMs, 1e-6)),
  );

  found = 0;
  const first = i;
  const rate = runTask(() => {
    for (let k = 0; k < batch; k++) found += op(i++);
  }, options.timeMs);
  const ops = i - first;
  const measuredFound = found;

  let p50Us = Number.NaN;
  let p99Us = Number.NaN;
  if (options.latency !== false) {
    const latency = runTask(single, latencyMs(options.timeMs));
    p50Us = latency.p50Ms * 1000;
    p99Us = latency.p99Ms * 1000;
  }
  return {
    perSec: (ops * keysPerOp * 1000) / rate.totalMs,
    samples: rate.calls,
    p50Us,
    p99Us,
    ops,
    keys: ops * keysPerOp,
    found: measuredFound,
  };
}

/**
 * Keeps `inFlight` calls of `op` outstanding (each of `inFlight` loops awaits one call, then
 * issues the next) for a warm-up and then `timeMs`. One call in eight is timed from issue to
 * settle; the rate is the keys completed ÷ the whole measured time (slices of ~50 ms are
 * counted too, as `samples`).
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
    perSec: overall,
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
