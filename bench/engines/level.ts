// Owns how the benchmarks drive classic-level (LevelDB): utf8 keys, Buffer values, default
// options (snappy on, 8 MiB block cache); load with batch().

import { ClassicLevel } from 'classic-level';
import type { LoadSource } from '../lib/dataset.js';
import { pipeline } from '../lib/pipeline.js';

export type Level = ClassicLevel<string, Buffer>;

/** Opens (creating) a LevelDB database in `dir`. */
export async function openLevel(dir: string): Promise<Level> {
  const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' });
  await db.open();
  return db;
}

/** Loads with `batch`: 1,024 puts per batch, 4 batches in flight (as kvd). */
export async function loadLevel(db: Level, data: LoadSource): Promise<void> {
  const keys = data.keys;
  await pipeline(data.count, (from, to) => {
    const ops: { type: 'put'; key: string; value: Buffer }[] = [];
    for (let n = from; n < to; n++) ops.push({ type: 'put', key: keys[n]!, value: data.value(n) });
    return db.batch(ops);
  });
}
