// Where the Store serves reads, as stats().reads counts them: getSync and batches of up to
// inlineReadKeys keys (a getMany, a has, the gets of one turn) on the caller's thread, bigger
// batches by the reader pool; the keys of a pooled task that failed are read again here.

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { readSegment, segmentFiles } from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

/** Batches of up to 2 keys are read inline, bigger ones by the one reader thread. */
const OPTIONS: StoreOptions = { readers: 1, inlineReadKeys: 2, compaction: { auto: false } };

async function reads(store: Store): Promise<{ inline: number; pooled: number }> {
  return (await store.stats()).reads;
}

describe('stats().reads', () => {
  it('counts keys read on the caller thread and by the reader pool, by batch size', async () => {
    const dir = await makeTempDir('reads');
    const store = await Store.open(dir, OPTIONS);
    try {
      for (const k of ['a', 'b', 'c']) await store.set(k, `value ${k}`);
      expect(await reads(store)).toEqual({ inline: 0, pooled: 0 });

      expect(store.getSync('a')?.toString()).toBe('value a');
      expect(await reads(store)).toEqual({ inline: 1, pooled: 0 });

      const two = await store.getMany(['a', 'b']);
      expect(two.map((v) => v?.toString())).toEqual(['value a', 'value b']);
      expect(await reads(store)).toEqual({ inline: 3, pooled: 0 });

      const three = await store.getMany(['a', 'b', 'zz']);
      expect(three.map((v) => v?.toString())).toEqual(['value a', 'value b', undefined]);
      expect(await reads(store)).toEqual({ inline: 3, pooled: 3 });

      expect(await store.has('c')).toBe(true);
      expect(await reads(store)).toEqual({ inline: 4, pooled: 3 });

      // The gets of one tick are one batch: three go to the pool, two are read here.
      const gets = await Promise.all(['a', 'b', 'c'].map((k) => store.get(k)));
      expect(gets.map((v) => v?.toString())).toEqual(['value a', 'value b', 'value c']);
      expect(await reads(store)).toEqual({ inline: 4, pooled: 6 });
      await Promise.all([store.get('a'), store.get('b')]);
      expect(await reads(store)).toEqual({ inline: 6, pooled: 6 });

      // The batch lasts the whole turn, not one callback: gets issued by two callbacks of one
      // turn (as two daemon connections' data events are) are one batch of three, so it goes to
      // the pool; read per callback, they would have been two inline batches.
      const byCallbacks = await new Promise<Promise<Buffer | undefined>[]>((resolve) => {
        const issued: Promise<Buffer | undefined>[] = [];
        setImmediate(() => issued.push(store.get('a'), store.get('b')));
        setImmediate(() => {
          issued.push(store.get('c'));
          resolve(issued);
        });
      });
      expect((await Promise.all(byCallbacks)).map((v) => v?.toString())).toEqual([
        'value a',
        'value b',
        'value c',
      ]);
      expect(await reads(store)).toEqual({ inline: 6, pooled: 9 });

      // keys() reads records in the pool too, but looks up no key: not counted.
      expect((await store.keys()).length).toBe(3);
      expect(await reads(store)).toEqual({ inline: 6, pooled: 9 });
    } finally {
      await store.close();
    }
  });

  it('counts the keys of a pooled batch that failed where they are read again, inline', async () => {
    const dir = await makeTempDir('reads-damaged');
    const store = await Store.open(dir, OPTIONS);
    for (const k of ['a', 'b', 'c']) await store.set(k, `value ${k}`);
    await store.close();
    // Flip the last byte of b's record: its checksum fails, so the pooled task reading it fails.
    const name = segmentFiles(dir)[0]!;
    const victim = readSegment(dir, name).records.find((r) => r.key.toString() === 'b')!;
    flipByte(join(dir, name), victim.offset + victim.length - 1);

    const reopened = await Store.open(dir, OPTIONS);
    try {
      const settled = await Promise.allSettled(['a', 'b', 'c'].map((k) => reopened.get(k)));
      expect(settled[0]).toEqual({ status: 'fulfilled', value: Buffer.from('value a') });
      expect(settled[1]).toMatchObject({ status: 'rejected', reason: { code: 'KV_CORRUPTION' } });
      expect(settled[2]).toEqual({ status: 'fulfilled', value: Buffer.from('value c') });
      expect(await reads(reopened)).toEqual({ inline: 3, pooled: 0 });
    } finally {
      await reopened.close();
    }
  });
});
