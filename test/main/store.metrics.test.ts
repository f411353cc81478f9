// Tests Store.metrics(): keys, disk and live bytes and write counts after known writes; fsync
// timings that move under durability 'always' and stay still under 'no'; compaction runs and
// bytes equal to what compact() reported; the writes waiting for the writer; the reader pool.

import { afterEach, describe, expect, it } from 'vitest';
import { type LatencyDistribution, Store, type StoreOptions } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const open: Store[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  await removeTempDirs();
});

async function openStore(options: StoreOptions): Promise<Store> {
  const store = await Store.open(await makeTempDir('metrics'), {
    readers: 1,
    compaction: { auto: false },
    ...options,
  });
  open.push(store);
  return store;
}

/** Checks a distribution's shape: one count per bound, cumulative, none above the total. */
function expectWellFormed(d: LatencyDistribution): void {
  expect(d.counts).toHaveLength(d.bounds.length);
  for (let i = 1; i < d.counts.length; i++) {
    expect(d.bounds[i]).toBeGreaterThan(d.bounds[i - 1]!);
    expect(d.counts[i]).toBeGreaterThanOrEqual(d.counts[i - 1]!);
  }
  expect(d.counts.at(-1)).toBeLessThanOrEqual(d.count);
}

describe('Store.metrics', () => {
  it('counts keys, bytes, writes and fsyncs after known writes (durability always)', async () => {
    const db = await openStore({ durability: 'always' });
    const before = await db.metrics();
    expect(before.keys).toBe(0);
    for (let i = 0; i < 10; i++) await db.set(`k${i}`, 'v'.repeat(100));
    await db.delete('k0');
    const after = await db.metrics();

    expect(after.keys).toBe(9);
    expect(after.liveBytes).toBeGreaterThan(9 * 100);
    expect(after.diskBytes).toBeGreaterThan(after.liveBytes); // k0's record and tombstone
    expect(after.operations.recordsWritten - before.operations.recordsWritten).toBe(11);
    expect(after.operations.groupCommits - before.operations.groupCommits).toBe(11);
    // Every awaited write was synced before it was answered.
    expect(after.fsync.count - before.fsync.count).toBeGreaterThanOrEqual(11);
    expect(after.fsync.seconds).toBeGreaterThan(before.fsync.seconds);
    expectWellFormed(after.fsync);
    expect(after.fsync.counts.at(-1)! - before.fsync.counts.at(-1)!).toBeGreaterThan(0);
  });

  it('times no fsync while writes go on under durability no', async () => {
    const db = await openStore({ durability: 'no' });
    const before = await db.metrics();
    for (let i = 0; i < 10; i++) await db.set(`k${i}`, 'value');
    const after = await db.metrics();
    expect(after.operations.recordsWritten - before.operations.recordsWritten).toBe(10);
    expect(after.fsync.count).toBe(before.fsync.count);
    await db.flush(); // forced: the one fdatasync is timed
    expect((await db.metrics()).fsync.count).toBe(before.fsync.count + 1);
  });

  it('counts merges and their bytes as compact() reports them', async () => {
    const db = await openStore({ durability: 'no' });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) await db.set(`k${i}`, `round ${round} ${'x'.repeat(64)}`);
    }
    const before = await db.metrics();
    expect(before.compaction).toEqual({ runs: 0, bytesRead: 0, bytesWritten: 0 });
    const result = await db.compact();
    const after = await db.metrics();
    expect(result.merges).toBeGreaterThan(0);
    expect(after.compaction).toEqual({
      runs: result.merges,
      bytesRead: result.bytesBefore,
      bytesWritten: result.bytesAfter,
    });
    expect(after.diskBytes).toBeLessThan(before.diskBytes);
    expect(after.keys).toBe(50);
  });

  it('counts the writes waiting for the writer, as of the call', async () => {
    const db = await openStore({ durability: 'no' });
    const writes = [db.set('a', '1'), db.set('b', '2'), db.delete('c'), db.batch([])];
    writes.push(db.batch([{ type: 'set', key: 'd', value: '4' }]));
    const queued = await db.metrics();
    // Queued this turn, not yet sent (an empty batch queues nothing).
    expect(queued.writeQueue).toEqual({ writes: 4, messages: 0 });
    await Promise.all(writes);
    expect((await db.metrics()).writeQueue).toEqual({ writes: 0, messages: 0 });
  });

  it('reports the reader pool and where keys were read', async () => {
    const db = await openStore({ inlineReadKeys: 0 });
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const k of keys) await db.set(k, k);
    const before = await db.metrics();
    expect(await db.getMany(keys)).toHaveLength(20);
    db.getSync('k1');
    const after = await db.metrics();
    expect(after.readerPool.threads).toBe(1);
    expect(after.readerPool.queueSize).toBe(0);
    expect(after.readerPool.completedTasks).toBeGreaterThan(before.readerPool.completedTasks);
    expect(after.readerPool.utilization).toBeGreaterThanOrEqual(0);
    expect(after.readerPool.utilization).toBeLessThanOrEqual(1);
    expect(after.operations.pooledReads - before.operations.pooledReads).toBe(20);
    expect(after.operations.inlineReads - before.operations.inlineReads).toBe(1);
  });

  it('rejects with KV_CLOSED once closed', async () => {
    const db = await Store.open(await makeTempDir('metrics-closed'), { readers: 1 });
    await db.close();
    await expect(db.metrics()).rejects.toMatchObject({ code: 'KV_CLOSED' });
  });
});
