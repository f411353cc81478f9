// Compaction through the Store API: compact() reclaims dead bytes and keeps every live value
// (across reopen); a merge that does not start at the oldest segment keeps the tombstones that
// still hide older values (the deleted-key resurrection case); automatic merges and hint files;
// sealed log segments sorted by the automatic check (sortSealed) or left as they are;
// readers racing merges see only written values; keys() racing a merge misses no key; close()
// during a merge.

import { readdirSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const SMALL: StoreOptions = {
  readers: 2,
  segmentBytes: 4096,
  compaction: { auto: false, bytesPerSecond: 0 },
};

afterEach(removeTempDirs);

async function writeAll(store: Store, entries: Iterable<[string, string]>): Promise<void> {
  await Promise.all([...entries].map(([k, v]) => store.set(k, v)));
}

describe('compact()', () => {
  it('reclaims dead bytes, keeps every live value, drops deletes and expired keys, across reopen', async () => {
    const dir = await makeTempDir('compact');
    // No active expiry: the merge, not a cycle that may run first, must drop the expired key.
    const store = await Store.open(dir, { ...SMALL, expiryCycleMs: 0 });
    const model = new Map<string, string>();
    try {
      for (let round = 0; round < 5; round++) {
        const entries: [string, string][] = [];
        for (let i = 0; i < 300; i++)
          entries.push([`k${i}`, `round ${round} value ${i} `.repeat(3)]);
        await writeAll(store, entries);
        for (const [k, v] of entries) model.set(k, v);
      }
      for (let i = 0; i < 300; i += 3) {
        expect(await store.delete(`k${i}`)).toBe(true);
        model.delete(`k${i}`);
      }
      await store.set('short-lived', 'x', { expiresAt: Date.now() - 1 }); // already expired
      await store.batch([
        { type: 'set', key: 'b1', value: 'batched 1' },
        { type: 'set', key: 'b2', value: 'batched 2' },
      ]);
      model.set('b1', 'batched 1');
      model.set('b2', 'batched 2');
      const before = await store.stats();
      expect(before.deadBytes).toBeGreaterThan(before.liveBytes * 3);

      const progress: number[] = [];
      const result = await store.compact(({ bytesRead }) => progress.push(bytesRead));
      const after = await store.stats();
      expect(result.segmentsMerged).toBe(before.segments.length);
      expect(result.bytesBefore).toBeGreaterThan(result.bytesAfter * 3);
      expect(result.keysExpired).toBe(1);
      expect(progress.at(-1)).toBe(result.bytesBefore);
      // Only merged segments and the new, empty active one remain; no dead bytes at all.
      expect(after.segments.filter((s) => !s.merged && !s.active)).toEqual([]);
      expect(after.deadBytes).toBe(0);
      expect(after.keys).toBe(model.size);
      expect(after.diskBytes).toBeLessThanOrEqual(after.liveBytes * 1.05 + 4096);
      for (const s of after.segments.filter((x) => x.merged)) expect(s.hinted).toBe(true);
      await expectModel(store, model, 'after compact');
      expect(store.getSync('short-lived')).toBeUndefined();
      // The old segment files are gone from the directory.
      const data = readdirSync(dir).filter((n) => n.endsWith('.log') || n.endsWith('.sst'));
      expect(data.sort()).toEqual(after.segments.map((s) => s.file).sort());
      for (const s of after.segments) expect(s.file.endsWith('.sst')).toBe(s.merged);
    } finally {
      await store.close();
    }
    const reopened = await Store.open(dir, SMALL);
    try {
      await expectModel(reopened, model, 'after reopen');
      expect((await reopened.stats()).keys).toBe(model.size);
    } finally {
      await reopened.close();
    }
  });

  it('on an empty store, or twice in a row, merges what there is and changes no value', async () => {
    const dir = await makeTempDir('compact-empty');
    const store = await Store.open(dir, SMALL);
    try {
      const empty = await store.compact();
      expect(empty.merges).toBe(0);
      await store.set('a', '1');
      const first = await store.compact();
      expect(first.segmentsMerged).toBe(1);
      const second = await store.compact();
      // The merged segment has nothing to reclaim, but compact() merges everything sealed.
      expect(second.keysMoved).toBe(1);
      expect(store.getSync('a')?.toString()).toBe('1');
    } finally {
      await store.close();
    }
    await expectRejectsWith(store.compact(), 'KV_CLOSED');
  });

  it('keeps a tombstone when an older segment outside the merge still holds the value it hides', async () => {
    const dir = await makeTempDir('resurrection');
    // Automatic merges only, of segments at least 60% dead; nothing counts as small.
    const options: StoreOptions = {
      ...SMALL,
      compaction: {
        auto: true,
        intervalMs: 10,
        smallSegmentBytes: 0,
        bytesPerSecond: 0,
        sortSealed: false,
      },
    };
    let store = await Store.open(dir, { ...SMALL, compaction: { auto: false } });
    try {
      // Segment 1: the victim's value among plenty of live keys (so it never becomes 40% dead).
      await store.set('victim', 'the old value');
      for (let i = 0; (await segmentCount(store)) < 2; i++) {
        await store.set(`live${i}`, 'v'.repeat(100));
      }
      // Segment 2: the victim's tombstone among dead overwrites of one churning key.
      expect(await store.delete('victim')).toBe(true);
      while ((await segmentCount(store)) < 3) await store.set('churn', 'c'.repeat(100));
      await store.set('churn', 'final');
    } finally {
      await store.close();
    }
    store = await Store.open(dir, options);
    try {
      // The automatic check merges segment 2 (and more), never segment 1.
      await pollUntil(
        'an automatic merge has run',
        async () => (await store.stats()).segments.some((s) => s.merged),
        20_000,
      );
      const segments = (await store.stats()).segments;
      expect(segments[0]).toMatchObject({ id: 1, merged: false });
      const merged = segments.find((s) => s.merged)!;
      expect(merged.first).toBe(2);
      expect(merged.tombstoneBytes).toBeGreaterThan(0);
      expect(store.getSync('victim')).toBeUndefined();
    } finally {
      await store.close();
    }
    // Replaying segment 1 and then the merged one must still end with the victim deleted.
    store = await Store.open(dir, SMALL);
    try {
      expect(store.getSync('victim')).toBeUndefined();
      expect(store.getSync('churn')?.toString()).toBe('final');
      // A full merge starts at the oldest segment: the tombstone can go, the victim stays gone.
      await store.compact();
      expect((await store.stats()).segments.every((s) => s.tombstoneBytes === 0)).toBe(true);
    } finally {
      await store.close();
    }
    store = await Store.open(dir, SMALL);
    try {
      expect(store.getSync('victim')).toBeUndefined();
      expect(await store.get('victim')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('automatic compaction', () => {
  it('writes hint files for sealed segments and merges fragmented ones, and the next open uses the hints', async () => {
    const dir = await makeTempDir('auto');
    const options: StoreOptions = {
      ...SMALL,
      snapshotIntervalMs: 0,
      compaction: { auto: true, intervalMs: 10, bytesPerSecond: 0 },
    };
    const store = await Store.open(dir, options);
    const model = new Map<string, string>();
    try {
      for (let round = 0; round < 8; round++) {
        const entries: [string, string][] = [];
        for (let i = 0; i < 100; i++) entries.push([`k${i}`, `r${round}:${i}`.padEnd(60, '.')]);
        await writeAll(store, entries);
        for (const [k, v] of entries) model.set(k, v);
      }
      await pollUntil(
        'a merge has run and every sealed segment has a hint file',
        async () => {
          const s = (await store.stats()).segments;
          return s.some((x) => x.merged) && s.every((x) => x.active || x.hinted);
        },
        20_000,
      );
      await expectModel(store, model, 'after automatic merges');
    } finally {
      await store.close();
    }
    // Without the snapshot, the hints rebuild the index: only the active segment is scanned.
    rmSync(`${dir}/INDEX-SNAPSHOT`, { force: true });
    const reopened = await Store.open(dir, options);
    try {
      const stats = await reopened.stats();
      expect(stats.recovery.restoredSegments).toBe(0);
      expect(stats.recovery.hintedSegments).toBe(stats.segments.length - 1);
      expect(stats.recovery.scannedSegments).toBe(1);
      await expectModel(reopened, model, 'after reopening from hints');
    } finally {
      await reopened.close();
    }
  });

  it('sorts sealed log segments when no merge is due (sortSealed), keeping tombstones that hide older values; reopen and range scans agree', async () => {
    const dir = await makeTempDir('sort-sealed');
    const options: StoreOptions = {
      ...SMALL,
      snapshotIntervalMs: 0,
      compaction: { auto: true, intervalMs: 10, bytesPerSecond: 0, smallSegmentBytes: 0 },
    };
    const model = new Map<string, string>();
    const key = (n: number) => `key:${String(n).padStart(4, '0')}`;
    /** Writes rounds with no automatic check, then opens with it until all is sorted. */
    const writeThenSort = async (rounds: number[], deletes: number[]) => {
      const writing = await Store.open(dir, { ...options, compaction: { auto: false } });
      try {
        for (const round of rounds) {
          const entries: [string, string][] = [];
          for (let i = 0; i < 60; i++) {
            entries.push([key(round * 60 + i), `${key(round * 60 + i)}=`.padEnd(70, `${round}`)]);
          }
          await writeAll(writing, entries);
          for (const [k, v] of entries) model.set(k, v);
        }
        for (const n of deletes) {
          await writing.delete(key(n));
          model.delete(key(n));
        }
        const sealed = (await writing.stats()).segments.filter((s) => !s.active && !s.merged);
        expect(sealed.length).toBeGreaterThan(2);
      } finally {
        await writing.close();
      }
      const sorting = await Store.open(dir, options);
      try {
        await pollUntil(
          'every sealed segment is a hinted data segment',
          async () =>
            (await sorting.stats()).segments.every((s) => s.active || (s.merged && s.hinted)),
          20_000,
        );
        const files = readdirSync(dir);
        expect(files.filter((f) => f.endsWith('.log'))).toHaveLength(1); // the active segment
        await expectModel(sorting, model, 'after sorting');
        const scanned = [...sorting.rangeSync()].map((e) => [`${e.key}`, `${e.value}`]);
        expect(scanned).toEqual([...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
        return (await sorting.stats()).segments;
      } finally {
        await sorting.close();
      }
    };
    await writeThenSort([0, 1, 2], []);
    // The deletes hide values in the first data segment: the second sort, which does not start
    // at the oldest segment, must keep their tombstones.
    const segments = await writeThenSort([3, 4, 5], [7, 67, 127]);
    const merged = segments.filter((s) => s.merged);
    expect(merged.length).toBeGreaterThan(1);
    expect(merged[merged.length - 1]!.tombstoneBytes).toBeGreaterThan(0);
    rmSync(`${dir}/INDEX-SNAPSHOT`, { force: true });
    const store = await Store.open(dir, { ...options, compaction: { auto: false } });
    try {
      await expectModel(store, model, 'after reopening from the data segments');
      for (const n of [7, 67, 127]) expect(store.getSync(key(n))).toBeUndefined();
      expect([...store.rangeSync({ values: false })]).toHaveLength(model.size);
    } finally {
      await store.close();
    }
  });

  it('waits to sort while segments fill faster than one per check interval, then sorts them', async () => {
    const dir = await makeTempDir('sort-quiet');
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const log = (fields: Record<string, unknown>, message: string) =>
      void lines.push({ fields, message });
    const store = await Store.open(dir, {
      ...SMALL,
      logger: { debug: log, info: log, warn: log, error: log },
      compaction: { auto: true, intervalMs: 200, bytesPerSecond: 0 },
    });
    const hintsWritten = () => lines.filter((l) => l.message === 'compaction: wrote hint file');
    try {
      // Each batch fills a 4 KiB segment: a rotation every few ms, far under 200 ms. A check
      // plans a merge before it writes hints, so once one has written a hint, it has passed on
      // sorting while segments were sealed a few ms before.
      for (let round = 0; hintsWritten().length === 0; round++) {
        await writeAll(
          store,
          Array.from({ length: 60 }, (_, i): [string, string] => [
            `k${round}.${i}`,
            'v'.repeat(60),
          ]),
        );
      }
      expect((await store.stats()).segments.some((s) => s.merged)).toBe(false);
      // Quiet now: the next checks sort every sealed segment.
      await pollUntil(
        'every sealed segment is sorted',
        async () => (await store.stats()).segments.every((s) => s.active || s.merged),
        20_000,
      );
    } finally {
      await store.close();
    }
  });

  it('with sortSealed false, leaves sealed log segments as they are and writes their hints', async () => {
    const dir = await makeTempDir('no-sort-sealed');
    const store = await Store.open(dir, {
      ...SMALL,
      compaction: { auto: true, intervalMs: 10, bytesPerSecond: 0, sortSealed: false },
    });
    try {
      await writeAll(
        store,
        Array.from({ length: 300 }, (_, i): [string, string] => [`k${i}`, 'v'.repeat(60)]),
      );
      // Each check would sort before it writes hints: once all are hinted, none was sorted.
      await pollUntil(
        'every sealed segment has a hint file',
        async () => (await store.stats()).segments.every((s) => s.active || s.hinted),
        20_000,
      );
      const sealed = (await store.stats()).segments.filter((s) => !s.active);
      expect(sealed.length).toBeGreaterThan(2);
      expect(sealed.some((s) => s.merged)).toBe(false);
    } finally {
      await store.close();
    }
  });
});

describe('compaction racing the other threads', () => {
  it.each([0, 1024])(
    'readers (getMany, get, getSync) see only written values, never older than acknowledged, while merges install (inlineReadKeys %i)',
    async (inlineReadKeys) => {
      const dir = await makeTempDir('compact-race');
      const store = await Store.open(dir, { ...SMALL, inlineReadKeys });
      const KEYS = 400;
      const acked = new Array<number>(KEYS).fill(-1);
      let done = false;
      let reads = 0;
      let merges = 0;
      const value = (n: number, v: number) => `k${n}:v${v}:`.padEnd(40 + ((n * 7 + v) % 50), '#');
      const check = (n: number, ackedBefore: number, got: Buffer | undefined) => {
        reads++;
        if (ackedBefore < 0) return; // may or may not exist yet
        expect(got, `k${n} vanished`).toBeDefined();
        const m = /^k(\d+):v(\d+):(#*)$/.exec(got!.toString());
        expect(m, `k${n} read ${got!.toString().slice(0, 60)}`).not.toBeNull();
        expect(Number(m![1])).toBe(n);
        expect(got!.toString()).toBe(value(n, Number(m![2])));
        expect(Number(m![2])).toBeGreaterThanOrEqual(ackedBefore);
      };
      try {
        const writer = async () => {
          for (let v = 0; v < 12; v++) {
            const writes: Promise<void>[] = [];
            for (let n = 0; n < KEYS; n++) {
              writes.push(
                store.set(`k${n}`, value(n, v)).then(() => {
                  acked[n] = v;
                }),
              );
            }
            await Promise.all(writes);
          }
        };
        const compactor = async () => {
          while (!done) {
            await store.compact();
            merges++;
          }
        };
        const reader = async () => {
          while (!done) {
            const ids = Array.from({ length: 64 }, (_, i) => (i * 37 + reads) % KEYS);
            const before = ids.map((n) => acked[n]!);
            const values = await store.getMany(ids.map((n) => `k${n}`));
            ids.forEach((n, i) => {
              check(n, before[i]!, values[i]);
            });
            const n = reads % KEYS;
            const b = acked[n]!;
            check(n, b, store.getSync(`k${n}`));
            check(n, acked[n]!, await store.get(`k${n}`));
          }
        };
        const writing = writer().finally(() => {
          done = true;
        });
        await Promise.all([writing, compactor(), reader(), reader()]);
        expect(merges).toBeGreaterThan(1);
        expect(reads).toBeGreaterThan(1000);
        for (let n = 0; n < KEYS; n++)
          expect(store.getSync(`k${n}`)?.toString()).toBe(value(n, 11));
      } finally {
        done = true;
        await store.close();
      }
    },
  );

  it('keys() during merges returns every key present for the whole call', async () => {
    const dir = await makeTempDir('compact-keys');
    const store = await Store.open(dir, SMALL);
    try {
      await writeAll(
        store,
        Array.from({ length: 500 }, (_, i) => [`stable${i}`, 'x'.repeat(50)]),
      );
      let done = false;
      const churn = async () => {
        for (let r = 0; !done; r++) await store.set(`churn${r % 50}`, 'y'.repeat(80));
      };
      const churning = churn();
      for (let round = 0; round < 5; round++) {
        const [keys] = await Promise.all([store.keys(), store.compact()]);
        const names = new Set(keys.map((k) => k.toString()));
        for (let i = 0; i < 500; i++) expect(names.has(`stable${i}`), `stable${i}`).toBe(true);
      }
      done = true;
      await churning;
    } finally {
      await store.close();
    }
  });

  it('close() during a slow merge stops it, leaves no temporary file and loses nothing', async () => {
    const dir = await makeTempDir('compact-close');
    // 256 KiB/s: a merge of a few hundred KiB takes over a second, so close() lands inside it.
    const options: StoreOptions = {
      ...SMALL,
      compaction: { auto: false, bytesPerSecond: 256 * 1024 },
    };
    const store = await Store.open(dir, options);
    const model = new Map<string, string>();
    for (let round = 0; round < 4; round++) {
      const entries: [string, string][] = [];
      for (let i = 0; i < 500; i++) entries.push([`k${i}`, `r${round}:${'z'.repeat(200)}`]);
      await writeAll(store, entries);
      for (const [k, v] of entries) model.set(k, v);
    }
    let started = () => {};
    const progressed = new Promise<void>((resolve) => {
      started = resolve;
    });
    const outcome = store
      .compact(() => started())
      .then(
        () => 'finished',
        (error: unknown) => error,
      );
    await progressed;
    await store.close();
    expect(await outcome).toMatchObject({ code: 'KV_CLOSED' });
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const reopened = await Store.open(dir, SMALL);
    try {
      await expectModel(reopened, model, 'after close during a merge');
    } finally {
      await reopened.close();
    }
  });
});

async function segmentCount(store: Store): Promise<number> {
  return (await store.stats()).segments.length;
}

async function expectModel(store: Store, model: Map<string, string>, when: string) {
  const keys = [...model.keys()];
  const values = await store.getMany(keys);
  keys.forEach((k, i) => {
    expect(values[i]?.toString(), `${when}: ${k} (getMany)`).toBe(model.get(k));
    expect(store.getSync(k)?.toString(), `${when}: ${k} (getSync)`).toBe(model.get(k));
  });
  expect((await store.stats()).keys, `${when}: key count`).toBe(model.size);
}
