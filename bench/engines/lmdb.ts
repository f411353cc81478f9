// Owns how the benchmarks drive lmdb-js: binary values, string keys, default (synced) commits
// or noSync;
// load with async put (lmdb batches one tick's puts into one transaction) or with putSync
// inside transactionSync.

import { open, type RootDatabase } from 'lmdb';
import type { Dataset, LoadSource } from '../lib/dataset.js';
import { pipeline } from '../lib/pipeline.js';

export type Lmdb = RootDatabase<Buffer, string>;

/** Puts per transactionSync in the sync loader. */
const PUTS_PER_TXN = 10_000;

/**
 * Opens (creating) an lmdb environment in directory `path`; values come back as Buffers.
 * `noSync` commits without syncing (lmdb's `noSync: true`): the pair of kvd's `'no'`.
 */
export function openLmdb(path: string, readOnly = false, noSync = false): Lmdb {
  return open<Buffer, string>({ path, encoding: 'binary', readOnly, noSync });
}

/** Loads with async `put`: 1,024 puts per tick, 4 ticks in flight (as kvd). */
export async function loadLmdbAsync(db: Lmdb, data: Dataset): Promise<void> {
  const keys = data.keys;
  await pipeline(data.count, (from, to) => {
    const puts: Promise<boolean>[] = [];
    for (let n = from; n < to; n++) puts.push(db.put(keys[n]!, data.value(n)));
    return Promise.all(puts);
  });
}

/** Loads with `putSync`, 10,000 per `transactionSync` (one synced commit each). */
export function loadLmdbSync(db: Lmdb, data: LoadSource): void {
  const keys = data.keys;
  for (let from = 0; from < data.count; from += PUTS_PER_TXN) {
    const to = Math.min(data.count, from + PUTS_PER_TXN);
    db.transactionSync(() => {
      for (let n = from; n < to; n++) db.putSync(keys[n]!, data.value(n));
    });
  }
}
