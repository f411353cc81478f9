// Owns the snapshot scenario's workload: timing many snapshot() creations one by one, a loop
// of overwrites kept in flight meanwhile, probe keys made of the loaded key strings, and
// synchronous tasks measured in alternating rounds (the median round of each kept).

import { setImmediate as nextTurn } from 'node:timers/promises';
import { passValue, type Store } from '../engines/kvd.js';
import { medianRun } from './alternate.js';
import { type Dataset, PROBE_LENGTH, prng } from './dataset.js';
import { type Measurement, measureSync, type SyncOptions } from './measure.js';

/** Creations timed at most per phase (enough for a stable p99). */
export const MAX_CREATIONS = 200_000;
/** Untimed creations before the timed ones (for V8 to optimise the caller's code). */
const WARMUP_CREATIONS = 2000;

/**
 * Times `store.snapshot()` alone, each snapshot released before the next is taken, for about
 * `timeMs` (at most MAX_CREATIONS), with one turn of the event loop after each creation (so
 * writes in flight on the same thread keep going). Returns each time in ms.
 */
export async function timeCreations(store: Store, timeMs: number): Promise<Float64Array> {
  for (let k = 0; k < WARMUP_CREATIONS; k++) store.snapshot().release();
  const times = new Float64Array(MAX_CREATIONS);
  let n = 0;
  const end = performance.now() + timeMs;
  while (n < MAX_CREATIONS) {
    const before = performance.now();
    const snapshot = store.snapshot();
    const after = performance.now();
    snapshot.release();
    times[n++] = after - before;
    if (after >= end) break;
    await nextTurn();
  }
  return times.subarray(0, n);
}

/** A loop of overwrites in flight; `stop` ends it and resolves with the writes it made. */
export interface OverwriteLoop {
  /** Writes acknowledged so far. */
  readonly writes: number;
  stop(): Promise<number>;
}

/**
 * Keeps `inFlight` sets outstanding, each overwriting a uniformly random key of `data` (the
 * loaded key string) with its pass-`pass` value, until stopped. Rejects from `stop` if a
 * write failed.
 */
export function startOverwrites(
  store: Store,
  data: Dataset,
  inFlight: number,
  pass: number,
): OverwriteLoop {
  const next = prng(0x0ce5 + pass);
  let stopped = false;
  let writes = 0;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const n = next() % data.count;
      await store.set(data.keys[n]!, passValue(data, n, pass));
      writes++;
    }
  };
  const loops = Promise.all(Array.from({ length: inFlight }, loop));
  return {
    get writes() {
      return writes;
    },
    async stop() {
      stopped = true;
      await loops;
      return writes;
    },
  };
}

/**
 * PROBE_LENGTH keys drawn uniformly from `data.keys` at the load positions `positions` (all
 * when omitted): the very strings the application loaded, not equal copies.
 */
export function loadedKeyProbe(
  data: Dataset,
  seed: number,
  positions?: readonly number[],
): string[] {
  const next = prng(seed);
  return Array.from({ length: PROBE_LENGTH }, () => {
    const n = positions ? positions[next() % positions.length]! : next() % data.count;
    return data.keys[n]!;
  });
}

/**
 * Measures each task `rounds` times, the tasks taking turns (a, b, …, a, b, …) so drift in
 * the machine's speed falls on all alike, each round `options.timeMs` ÷ `rounds` long.
 * Returns per task the round with the median rate (its latencies with it).
 */
export function alternateSync(
  tasks: readonly ((i: number) => number)[],
  options: SyncOptions,
  rounds: number,
): Measurement[] {
  const runs: Measurement[][] = tasks.map(() => []);
  const each = { ...options, timeMs: options.timeMs / rounds };
  for (let r = 0; r < rounds; r++) {
    tasks.forEach((task, k) => {
      runs[k]!.push(measureSync(task, each));
    });
  }
  return runs.map(medianRun);
}
