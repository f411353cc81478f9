// Range scans take a data segment's entry from its block without asking the index while every
// put entry of the segment is its key's newest version (the handle's all-live mark,
// segment-handles.ts). These tests change a compacted store every way that displaces an entry
// (overwrite, delete, a new expiry, a write during a merge) and check that scans, snapshots
// and a reopened store never return a displaced entry, and that compact() makes it all-live
// again.

import { afterEach, describe, expect, it } from 'vitest';
import { type ReadMode, Store, type StoreOptions } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const key = (i: number) => `key:${String(i).padStart(4, '0')}`;
const KEYS = 300;

function scan(source: Pick<Store, 'rangeSync'>): [string, string][] {
  return [...source.rangeSync()].map((e) => [e.key.toString(), e.value!.toString()]);
}

async function scanAsync(store: Store): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of store.range()) out.push([e.key.toString(), e.value!.toString()]);
  return out;
}

/** Writes KEYS keys (`v0-i`) into the store and the model. */
async function fill(store: Store, model: Map<string, string>): Promise<void> {
  await Promise.all(
    Array.from({ length: KEYS }, (_, i) => {
      model.set(key(i), `v0-${i}`);
      return store.set(key(i), `v0-${i}`);
    }),
  );
}

const sorted = (model: Map<string, string>) =>
  [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe.each(['mmap', 'pread'] as ReadMode[])(
  'all-live data segments (readMode %s)',
  (readMode) => {
    const options: StoreOptions = {
      readMode,
      readers: 1,
      segmentBytes: 4096,
      compaction: { auto: false, bytesPerSecond: 0 },
    };

    it('scans never return an entry displaced by an overwrite, a delete or a new expiry, before or after reopen', async () => {
      const dir = await makeTempDir('all-live');
      let store = await Store.open(dir, options);
      const model = new Map<string, string>();
      try {
        await fill(store, model);
        await store.compact();
        expect(scan(store)).toEqual(sorted(model));
        const before = store.snapshot();
        const beforeModel = new Map(model);
        // Each kind of displacement, of entries in the one data segment.
        await store.set(key(10), 'overwritten');
        model.set(key(10), 'overwritten');
        await store.delete(key(20));
        model.delete(key(20));
        await store.expire(key(30), Date.now() + 3_600_000);
        await store.batch([
          { type: 'set', key: key(40), value: 'batched' },
          { type: 'delete', key: key(50) },
        ]);
        model.set(key(40), 'batched');
        model.delete(key(50));
        expect(scan(store)).toEqual(sorted(model));
        expect(await scanAsync(store)).toEqual(sorted(model));
        // The snapshot from before sees the entries as they were.
        expect(scan(before)).toEqual(sorted(beforeModel));
        before.release();
      } finally {
        await store.close();
      }
      store = await Store.open(dir, options);
      try {
        expect(scan(store)).toEqual(sorted(model));
        await store.compact();
        expect(scan(store)).toEqual(sorted(model));
        await store.set(key(60), 'after the second compact');
        model.set(key(60), 'after the second compact');
        expect(scan(store)).toEqual(sorted(model));
      } finally {
        await store.close();
      }
      store = await Store.open(dir, options);
      try {
        expect(scan(store)).toEqual(sorted(model));
      } finally {
        await store.close();
      }
    });

    it('a key written while a merge copies it leaves the merged entry displaced', async () => {
      const dir = await makeTempDir('all-live-race');
      // A slow merge, so that writes land while it copies.
      const store = await Store.open(dir, {
        ...options,
        compaction: { auto: false, bytesPerSecond: 8192 },
      });
      const model = new Map<string, string>();
      try {
        await fill(store, model);
        // At the merge's first progress, every third key is written again: the merge has chosen
        // and copies the old versions of those it has read, and their moves are then refused.
        let writes: Promise<unknown> | undefined;
        await store.compact(() => {
          writes ??= Promise.all(
            Array.from({ length: KEYS / 3 }, (_, j) => {
              model.set(key(j * 3), `v1-${j * 3}`);
              return store.set(key(j * 3), `v1-${j * 3}`);
            }),
          );
        });
        await writes;
        expect(writes).toBeDefined();
        expect(scan(store)).toEqual(sorted(model));
        expect(await scanAsync(store)).toEqual(sorted(model));
      } finally {
        await store.close();
      }
    });
  },
);
