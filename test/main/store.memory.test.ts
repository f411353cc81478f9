// Memory a store keeps per call: none once the call has settled. (A call used to race the
// writer's reply against one promise that never settles, leaving a reaction behind per write:
// about 500 bytes each, 20 MB per 40,000 writes.)

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { fullGc } from '../fixtures/gc.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

/** `count` writes, each awaited: one call to the writer thread each. */
async function writeMany(store: Store, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) await store.set(`k${i % 5000}`, 'v');
}

describe('memory per call', () => {
  it('does not grow with the number of writes once they have settled', async () => {
    const store = await Store.open(await makeTempDir('memory'), {
      readers: 1,
      durability: 'no',
      compaction: { auto: false },
    });
    try {
      await writeMany(store, 0, 10_000); // warm up: the index and the queues reach their size
      fullGc();
      const before = process.memoryUsage().heapUsed;
      await writeMany(store, 10_000, 40_000);
      fullGc();
      const grown = process.memoryUsage().heapUsed - before;
      expect(grown, `heap grew ${grown} bytes over 40,000 writes`).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await store.close();
    }
  }, 60_000);
});
