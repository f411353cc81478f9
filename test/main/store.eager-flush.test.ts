// A turn with many writes is sent to the writer in parts of EAGER_FLUSH_RECORDS records
// (write-queue.ts), so the writer appends the first part while the caller lays out the rest.
// The parts must keep the writes' order, never split an atomic batch, and lose nothing.

import { afterEach, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { EAGER_FLUSH_RECORDS } from '../../dist/main/write-queue.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

it('sends a part as soon as a turn holds EAGER_FLUSH_RECORDS records', async () => {
  const store = await Store.open(await makeTempDir('eager-flush'), { durability: 'no' });
  try {
    const count = EAGER_FLUSH_RECORDS * 2 + 88;
    const sets: Promise<void>[] = [];
    for (let i = 0; i < count; i++) sets.push(store.set(`k${i}`, `v${i}`));
    // metrics() reads the queue's depth when called, before its round trip to the writer.
    const during = store.metrics();
    await Promise.all(sets);
    const depth = (await during).writeQueue;
    expect(depth.writes).toBe(count);
    expect(depth.messages).toBe(2); // two full parts sent; the last 88 wait for the turn's end
    for (let i = 0; i < count; i++) expect(store.getSync(`k${i}`)?.toString()).toBe(`v${i}`);
  } finally {
    await store.close();
  }
});

it('keeps the order of one key written many times in one turn, across parts and a reopen', async () => {
  const dir = await makeTempDir('eager-flush-order');
  let store = await Store.open(dir, { durability: 'no' });
  try {
    const count = EAGER_FLUSH_RECORDS * 3 + 5;
    const sets: Promise<void>[] = [];
    for (let i = 0; i < count; i++) sets.push(store.set('key', `v${i}`));
    await Promise.all(sets);
    expect(store.getSync('key')?.toString()).toBe(`v${count - 1}`);
    await store.close();
    store = await Store.open(dir, { durability: 'no' });
    expect(store.getSync('key')?.toString()).toBe(`v${count - 1}`);
  } finally {
    await store.close();
  }
});

it('never splits an atomic batch larger than a part', async () => {
  const store = await Store.open(await makeTempDir('eager-flush-batch'), { durability: 'no' });
  try {
    const ops = Array.from({ length: EAGER_FLUSH_RECORDS + 44 }, (_, i) => ({
      type: 'set' as const,
      key: `b${i}`,
      value: `${i}`,
    }));
    const before = store.set('first', 'x');
    const batch = store.batch(ops);
    const after = store.set('last', 'y');
    const during = store.metrics();
    await Promise.all([before, batch, after]);
    // The batch went whole in the first part, with the write before it; 'last' waited.
    expect((await during).writeQueue.messages).toBe(1);
    for (let i = 0; i < ops.length; i++) expect(store.getSync(`b${i}`)?.toString()).toBe(`${i}`);
    expect(store.getSync('last')?.toString()).toBe('y');
  } finally {
    await store.close();
  }
});
