// Tests the daemon's GET coalescer (src/main/server/get-batch.ts) against a real store: a turn's
// GETs up to the cap are read on this thread, more go to the reader pool as one getMany, and
// when that getMany fails (one damaged record fails the whole call) each key is retried alone,
// so only the GET of the damaged record gets the error.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { GetBatch } from '../../dist/main/server/get-batch.js';
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
      for (const count of [10, 2500]) {
        const keys = Array.from({ length: count }, (_, i) => `k${i * 2}`);
        const results = await getAll(batch, keys);
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
    const fd = openSync(join(dir, name), 'r+');
    const last = victim.offset + victim.length - 1;
    writeSync(fd, Uint8Array.of(readFileSync(join(dir, name))[last]! ^ 0xff), 0, 1, last);
    closeSync(fd);
    const reopened = await Store.open(dir, OPTIONS);
    try {
      const keys = Array.from({ length: 1500 }, (_, i) => `k${i}`);
      const results = await getAll(new GetBatch(reopened), keys);
      results.forEach((r, i) => {
        if (i === 700) expect(r).toEqual({ ok: false, code: 'KV_CORRUPTION' });
        else expect(r, keys[i]).toEqual({ ok: true, value: `value ${i}` });
      });
    } finally {
      await reopened.close();
    }
  });
});
