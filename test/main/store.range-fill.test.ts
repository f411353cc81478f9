// The keys a range scan takes from memory: those in the log before the store opened (read from
// the segments without a key run, up to the active segment's size at open) and those written
// since (added as they are written). Each key must appear exactly once, whichever segment it
// landed in: ones sealed before open, the active one before and after open, ones made since.

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

type Durability = 'no' | 'always';
type ReadMode = 'pread' | 'mmap';

const cases: [Durability, ReadMode][] = [
  ['no', 'pread'],
  ['no', 'mmap'],
  ['always', 'pread'],
  ['always', 'mmap'],
];

describe('range scans across open', () => {
  it.each(cases)(
    'list each key once, old and new, in every segment (durability %s, readMode %s)',
    async (durability, readMode) => {
      const dir = await makeTempDir('range-fill');
      // No hint job: sealed segments keep no key run, so scans read their keys into memory.
      const options = {
        durability,
        readMode,
        segmentBytes: 16 * 1024,
        compaction: { auto: false },
      } as const;
      const model = new Map<string, string>();
      let db = await Store.open(dir, options);
      try {
        for (let i = 0; i < 1500; i++) {
          const key = `a:${String(i % 900).padStart(4, '0')}`;
          await db.set(key, `first${i}`);
          model.set(key, `first${i}`);
        }
        for (let i = 0; i < 900; i += 7) {
          await db.delete(`a:${String(i).padStart(4, '0')}`);
          model.delete(`a:${String(i).padStart(4, '0')}`);
        }
        // The last keys before close stay in the active segment at open, never overwritten.
        for (let i = 0; i < 100; i++) {
          await db.set(`c:${i}`, `tail${i}`);
          model.set(`c:${i}`, `tail${i}`);
        }
        await db.close();
        db = await Store.open(dir, options);
        const before = (await db.stats()).segments.length;
        // Written after open: overwrites of old keys and new keys, past the active segment's
        // size at open and into new segments.
        for (let i = 0; i < 1200; i++) {
          const key = i % 2 === 0 ? `a:${String(i % 900).padStart(4, '0')}` : `b:${i}`;
          await db.set(key, `second${i}`);
          model.set(key, `second${i}`);
        }
        expect((await db.stats()).segments.length).toBeGreaterThan(before);
        const expected = [...model.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
        const scanned = [...db.rangeSync()].map((e) => [e.key.toString(), e.value.toString()]);
        expect(scanned).toEqual(expected);
        const reversed = [...db.rangeSync({ reverse: true, values: false })].map((e) =>
          e.key.toString(),
        );
        expect(reversed).toEqual(expected.map(([k]) => k).reverse());
        expect((await db.keys()).map((k) => k.toString()).sort()).toEqual(expected.map(([k]) => k));
      } finally {
        await db.close();
      }
    },
  );
});
