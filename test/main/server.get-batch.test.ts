// Tests the daemon's GET coalescer (src/main/server/get-batch.ts) against a real store: a turn's
// GETs up to the cap are read on this thread, more go to the reader pool as one getMany, and
// when that getMany fails (one damaged record fails the whole call) each key is retried alone,
// so only the GET of the damaged record gets the error. Which path ran is read from the
// store's `stats().reads` counts and from the calls GetBatch makes on the store.

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { GetBatch } from '../../dist/main/server/get-batch.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { readSegment, segmentFiles } from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const OPTIONS = { readers: 1, compaction: { auto: false } } as const;

async function storeWith(n: number): Promise<{ dir: string; store: Store }> {
  const dir = await makeTempDir('get-batch');
  const store = await Store.open(dir, OPTIONS);
  await Promise.all(Array.from({ length: n }, (_, i) => store.set(`k${i}`, `value ${i}`)));
  return { dir, store };
}

/** The store's read counts (keys read on this thread, and by the reader pool) so far. */
async function readCounts(store: Store): Promise<{ inline: number; pooled: number }> {
  return (await store.stats()).reads;
}

/** Issues GETs for `keys` in one turn, flushes, and settles each. */
function getAll(batch: GetBatch, keys: readonly string[]) {
  const results = keys.map((k) =>
    batch.get(Buffer.from(k)).then(
      (v) => ({ ok: true as const, value: v?.toString() }),
      (error: unknown) => ({ ok: false as const, code: (error as { code?: string }).code }),
    ),
  );
  batch.flush();
  return Promise.all(results);
}

describe('GetBatch', () => {
  it('answers a small turn and a turn past the cap (reader pool) alike, misses included', async () => {
    const { store } = await storeWith(3000);
    try {
      const batch = new GetBatch(store);
      // Up to the cap (1,024) every key is read on this thread; past it, by the reader pool.
      for (const [count, where] of [
        [10, { inline: 10, pooled: 0 }],
        [2500, { inline: 0, pooled: 2500 }],
      ] as const) {
        const keys = Array.from({ length: count }, (_, i) => `k${i * 2}`);
        const before = await readCounts(store);
        const results = await getAll(batch, keys);
        const after = await readCounts(store);
        expect(
          { inline: after.inline - before.inline, pooled: after.pooled - before.pooled },
          `where the ${count} keys were read`,
        ).toEqual(where);
        results.forEach((r, i) => {
          const n = i * 2;
          expect(r, keys[i]).toEqual({ ok: true, value: n < 3000 ? `value ${n}` : undefined });
        });
      }
    } finally {
      await store.close();
    }
  });

  it('when the pooled getMany fails, retries each key alone: only the damaged one errs', async () => {
    const { dir, store } = await storeWith(1500);
    await store.close();
    const name = segmentFiles(dir)[0]!;
    const victim = readSegment(dir, name).records.find((r) => r.key.toString() === 'k700')!;
    flipByte(join(dir, name), victim.offset + victim.length - 1); // its checksum fails
    const reopened = await Store.open(dir, OPTIONS);
    try {
      // The real store, with the calls GetBatch makes on it and how its getMany ended recorded.
      const getManys: { keys: number; code: string | undefined }[] = [];
      let getSyncs = 0;
      const watched = {
        getMany: async (keys: readonly Buffer[]) => {
          try {
            const values = await reopened.getMany(keys);
            getManys.push({ keys: keys.length, code: undefined });
            return values;
          } catch (error) {
            getManys.push({ keys: keys.length, code: (error as { code?: string }).code });
            throw error;
          }
        },
        getSync: (key: Buffer) => {
          getSyncs++;
          return reopened.getSync(key);
        },
      };
      const keys = Array.from({ length: 1500 }, (_, i) => `k${i}`);
      const before = await readCounts(reopened);
      const results = await getAll(new GetBatch(watched), keys);
      const after = await readCounts(reopened);
      results.forEach((r, i) => {
        if (i === 700) expect(r).toEqual({ ok: false, code: 'KV_CORRUPTION' });
        else expect(r, keys[i]).toEqual({ ok: true, value: `value ${i}` });
      });
      // One getMany of all 1,500 went to the pool and failed as a whole; then each key alone.
      expect(getManys).toEqual([{ keys: 1500, code: 'KV_CORRUPTION' }]);
      expect(getSyncs).toBe(1500);
      expect(after.pooled - before.pooled, 'keys the pool answered').toBe(0);
      expect(after.inline - before.inline, 'keys read again on this thread').toBe(1500);
    } finally {
      await reopened.close();
    }
  });
});
