// A snapshot read racing the writer's publishing: the writer replaces or removes a key's slot
// on its own thread while this thread reads the key through a snapshot. The version the slot
// held must be in the version log before the slot changes, or a read that sees the new slot
// finds no version for the snapshot and answers "absent" for a key it had.

import { afterEach, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const KEYS = 2_000;
const ROUNDS = 25;
const key = (i: number) => `race:${String(i).padStart(5, '0')}`;

it('a snapshot read never misses a version while the writer displaces it', async () => {
  const store = await Store.open(await makeTempDir('snapshot-race'), { durability: 'no' });
  try {
    await Promise.all(Array.from({ length: KEYS }, (_, i) => store.set(key(i), `v0-${i}`)));
    const snapshot = store.snapshot();
    const missed: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // One turn of writes goes to the writer in parts (EAGER_FLUSH_RECORDS), so it publishes
      // them while this loop reads the same keys through the snapshot.
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < KEYS; i++) {
        writes.push(i % 4 === 0 ? store.delete(key(i)) : store.set(key(i), `v${round}-${i}`));
      }
      for (let pass = 0; pass < 3; pass++) {
        for (let i = 0; i < KEYS; i++) {
          const value = snapshot.getSync(key(i))?.toString();
          if (value !== `v0-${i}`) missed.push(`${key(i)}: ${value}`);
        }
      }
      await Promise.all(writes);
      // Deleted keys come back, so the next round displaces a version again.
      await Promise.all(
        Array.from({ length: KEYS / 4 }, (_, j) => store.set(key(j * 4), `back-${j}`)),
      );
    }
    expect(missed.slice(0, 5)).toEqual([]);
    snapshot.release();
  } finally {
    await store.close();
  }
}, 60_000);
