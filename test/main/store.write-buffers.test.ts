// The write queue lays out each turn's records in a buffer sized for the turn before it
// (write-queue.ts): turns of very different sizes, one after another, each issued at once, must
// all be written whole and in order, and read back the same after a reopen.

import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

/** Value sizes: tiny, around the smallest buffer (4 KiB), and past the largest one (4 MiB). */
const size = fc.oneof(
  fc.nat(200),
  fc.integer({ min: 3_000, max: 70_000 }),
  fc.integer({ min: 4_100_000, max: 5_000_000 }),
);
const write = fc.record({ key: fc.nat(7), size, fill: fc.nat(255) });
const turns = fc.array(fc.array(write, { minLength: 1, maxLength: 12 }), {
  minLength: 1,
  maxLength: 6,
});

it('writes turns of any size after turns of any other size, whole and in order', async () => {
  await fc.assert(
    fc.asyncProperty(turns, async (plan) => {
      const dir = await makeTempDir('write-buffers');
      const model = new Map<string, Buffer>();
      let store = await Store.open(dir, { durability: 'no' });
      try {
        for (const turn of plan) {
          const sets: Promise<void>[] = [];
          for (const w of turn) {
            const value = Buffer.alloc(w.size, w.fill);
            model.set(`k${w.key}`, value);
            sets.push(store.set(`k${w.key}`, value));
          }
          await Promise.all(sets);
        }
        for (const [key, value] of model) expect(store.getSync(key)?.equals(value)).toBe(true);
        await store.close();
        store = await Store.open(dir, { durability: 'no' });
        for (const [key, value] of model) expect((await store.get(key))?.equals(value)).toBe(true);
      } finally {
        await store.close();
      }
    }),
    { numRuns: 12 },
  );
}, 120_000);
