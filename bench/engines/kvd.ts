// Owns how the benchmarks drive kvd: open with a durability mode, load a dataset with many
// sets in flight. Everything goes through the public Store API.

import { Store, type StoreOptions } from '../../src/main/index.js';
import type { Dataset } from '../lib/dataset.js';
import { pipeline } from '../lib/pipeline.js';

export type { Store, StoreStats } from '../../src/main/index.js';
export type Durability = NonNullable<StoreOptions['durability']>;

/** Opens (creating) a kvd store in `dir`. */
export function openKvd(dir: string, durability: Durability, readers: number): Promise<Store> {
  return Store.open(dir, { durability, readers });
}

/** Loads every key with `set`: 1,024 sets per tick (one writer message), 4 ticks in flight. */
export async function loadKvd(store: Store, data: Dataset): Promise<void> {
  const keys = data.keys;
  await pipeline(data.count, (from, to) => {
    const sets: Promise<void>[] = [];
    for (let n = from; n < to; n++) sets.push(store.set(keys[n]!, data.value(n)));
    return Promise.all(sets);
  });
}
