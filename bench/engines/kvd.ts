// Owns how the benchmarks drive kvd: open with a durability mode (and other options), load a
// dataset, overwrite or delete part of it with many writes in flight, the segment size for a
// run's scale.
// Everything goes through the public Store API.

import { DEFAULTS, LIMITS, Store, type StoreOptions } from '../../src/main/index.js';
import type { Dataset, LoadSource } from '../lib/dataset.js';
import { pipeline } from '../lib/pipeline.js';

export type {
  CompactionResult,
  RangeOptions,
  Snapshot,
  Store,
  StoreStats,
} from '../../src/main/index.js';
export type Durability = NonNullable<StoreOptions['durability']>;

/** Opens (creating) a kvd store in `dir`; `options` adds settings such as compaction's. */
export function openKvd(
  dir: string,
  durability: Durability,
  readers: number,
  options: Omit<StoreOptions, 'durability' | 'readers'> = {},
): Promise<Store> {
  return Store.open(dir, { ...options, durability, readers });
}

/** Keys of dataset A in a full run, which the default segment size is judged at. */
const FULL_RUN_KEYS = 1_000_000;

/**
 * A segment size giving a run of `keys` keys (--keys) as many segments per key as the default
 * (64 MiB) gives a full run: the default from 1M keys up, proportionally smaller on reduced
 * runs, so that those still seal, hint and merge several segments.
 */
export function segmentBytesFor(keys: number): number {
  if (keys >= FULL_RUN_KEYS) return DEFAULTS.segmentBytes;
  return Math.max(
    LIMITS.minSegmentBytes,
    Math.round((DEFAULTS.segmentBytes * keys) / FULL_RUN_KEYS),
  );
}

/** Loads every key with `set`: 1,024 sets per tick (one writer message), 4 ticks in flight. */
export async function loadKvd(store: Store, data: LoadSource): Promise<void> {
  const keys = data.keys;
  await pipeline(data.count, (from, to) => {
    const sets: Promise<void>[] = [];
    for (let n = from; n < to; n++) sets.push(store.set(keys[n]!, data.value(n)));
    return Promise.all(sets);
  });
}

/**
 * The value the n-th key (load order) gets in write pass `pass` (pass 0 is `loadKvd`'s):
 * another key's 100 B window, so every pass writes new bytes.
 */
export function passValue(data: Dataset, n: number, pass: number): Buffer {
  return data.value((n + pass) % data.count);
}

/** Writes every key once more with its pass-`pass` value, in load order, as `loadKvd` does. */
export async function overwriteKvd(store: Store, data: Dataset, pass: number): Promise<void> {
  const keys = data.keys;
  await pipeline(data.count, (from, to) => {
    const sets: Promise<void>[] = [];
    for (let n = from; n < to; n++) sets.push(store.set(keys[n]!, passValue(data, n, pass)));
    return Promise.all(sets);
  });
}

/** Whether the n-th key (load order) is one `deleteEveryKvd(…, every)` deletes. */
export function deletedBy(n: number, every: number): boolean {
  return n % every === every - 1;
}

/** Deletes every `every`-th key in load order (positions every − 1, 2 × every − 1, …). */
export async function deleteEveryKvd(store: Store, data: Dataset, every: number): Promise<void> {
  const keys = data.keys;
  await pipeline(data.count, (from, to) => {
    const deletes: Promise<boolean>[] = [];
    for (let n = from; n < to; n++) if (deletedBy(n, every)) deletes.push(store.delete(keys[n]!));
    return Promise.all(deletes);
  });
}
