// Snapshots (Store.snapshot, and the implicit one of each range scan): a snapshot's reads and
// ranges stay exactly as they were while every key is overwritten or deleted, keys expire and
// are reaped, and merges run; merges keep the segments it may read until it is released (in
// both read modes: a retired segment unmapped under a snapshot would fail its reads); a
// snapshot never released is released by its timeout or by the garbage collector, once each.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ReadMode, Store } from '../../dist/main/index.js';
import { fullGc } from '../fixtures/gc.js';
import { expectThrowsWith } from '../fixtures/kv-errors.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const KEYS = 400;
const key = (i: number) => `key:${String(i).padStart(4, '0')}`;

function recordingLogger() {
  const warnings: string[] = [];
  return {
    warnings,
    logger: {
      debug() {},
      info() {},
      warn: (_fields: unknown, message?: string) => void warnings.push(String(message)),
      error() {},
    },
  };
}

async function fill(store: Store, round: string): Promise<Map<string, string>> {
  const model = new Map<string, string>();
  await Promise.all(
    Array.from({ length: KEYS }, (_, i) => {
      model.set(key(i), `${round}-${i}`);
      return store.set(key(i), `${round}-${i}`);
    }),
  );
  return model;
}

describe('snapshots', () => {
  it.each<ReadMode>(['pread', 'mmap'])(
    'see exactly the writes before them while every key is overwritten and deleted and merges run (%s)',
    async (readMode) => {
      const dir = await makeTempDir('snapshot');
      const store = await Store.open(dir, { readMode, segmentBytes: 8192, readers: 1 });
      try {
        const before = await fill(store, 'first');
        const snapshot = store.snapshot();
        const expected = [...before].sort(([a], [b]) => (a < b ? -1 : 1));
        const check = async (when: string) => {
          for (const [k, v] of before) expect(snapshot.getSync(k)?.toString(), when).toBe(v);
          const many = await snapshot.getMany([...before.keys()]);
          expect(
            many.map((b) => b?.toString()),
            when,
          ).toEqual([...before.values()]);
          expect((await snapshot.get('absent'))?.toString(), when).toBeUndefined();
          const ranged = [...snapshot.rangeSync()].map((e) => [
            e.key.toString(),
            e.value.toString(),
          ]);
          expect(ranged, `${when}: rangeSync`).toEqual(expected);
          const tail: string[] = [];
          for await (const e of snapshot.range({ gte: key(390), reverse: true })) {
            tail.push(e.key.toString());
          }
          expect(tail, `${when}: range`).toEqual(
            expected
              .slice(390)
              .map(([k]) => k)
              .reverse(),
          );
        };
        await check('at once');
        for (let round = 0; round < 3; round++) {
          await fill(store, `round-${round}`);
          await Promise.all(Array.from({ length: KEYS / 2 }, (_, i) => store.delete(key(2 * i))));
          await store.set(`new-${round}`, 'after the snapshot');
          await check(`after round ${round} of overwrites and deletes`);
        }
        // A merge runs now but cannot retire its inputs while the snapshot is held.
        const segmentsBefore = readdirSync(dir).filter((n) => n.endsWith('.log'));
        let compacted = false;
        const compaction = store.compact().then(() => {
          compacted = true;
        });
        await pollUntil(
          'the merge waits to retire its inputs',
          async () => (await store.stats()).snapshots.pinnedBytes > 0,
          20_000,
        );
        expect(compacted).toBe(false);
        for (const name of segmentsBefore) expect(existsSync(join(dir, name)), name).toBe(true);
        await check('with a merge waiting');
        expect((await store.stats()).snapshots.held).toBe(1);
        snapshot.release();
        await compaction;
        expect(segmentsBefore.some((name) => !existsSync(join(dir, name)))).toBe(true);
        expectThrowsWith(() => snapshot.getSync(key(1)), 'KV_SNAPSHOT_RELEASED');
        // The store itself shows the latest writes.
        expect(store.getSync(key(1))?.toString()).toBe('round-2-1');
        expect(store.getSync(key(0))).toBeUndefined();
        expect((await store.stats()).snapshots).toMatchObject({ held: 0, pinnedBytes: 0 });
      } finally {
        await store.close();
      }
    },
    60_000,
  );

  it('judge expiry by the clock when they were taken, after the key expires and is reaped', async () => {
    const dir = await makeTempDir('snapshot-expiry');
    const store = await Store.open(dir, { expiryCycleMs: 10 });
    try {
      const expiresAt = Date.now() + 300;
      await store.set('short', 'lived', { expiresAt });
      const snapshot = store.snapshot();
      await pollUntil(
        'the key expired and was reaped',
        async () => {
          return Date.now() > expiresAt && (await store.stats()).keys === 0;
        },
        10_000,
      );
      expect(store.getSync('short')).toBeUndefined();
      expect(snapshot.getSync('short')?.toString()).toBe('lived');
      expect([...snapshot.rangeSync()].map((e) => e.key.toString())).toEqual(['short']);
      snapshot.release();
    } finally {
      await store.close();
    }
  });

  it('give every entry with the expiry it had when taken (entriesWithExpiry, for full resyncs)', async () => {
    const dir = await makeTempDir('snapshot-expiries');
    // Small segments and a compaction: entries come from sorted data segments and the log.
    const store = await Store.open(dir, { segmentBytes: 8192 });
    try {
      const later = Date.now() + 3_600_000;
      const expected = [...(await fill(store, 'a'))].map(([k, v]) => ({
        key: k,
        value: v,
        expiresAt: 0,
      }));
      for (let i = 0; i < KEYS; i += 3) {
        await store.expire(key(i), later + i);
        expected[i]!.expiresAt = later + i;
      }
      await store.compact(); // these now come from a sorted data segment
      for (let i = 1; i < KEYS; i += 7) {
        await store.set(key(i), `b-${i}`, { expiresAt: later });
        expected[i] = { key: key(i), value: `b-${i}`, expiresAt: later };
      }
      await store.set('fresh', 'in the log', { expiresAt: later });
      expected.unshift({ key: 'fresh', value: 'in the log', expiresAt: later });
      const snapshot = store.snapshot();
      // Changed after it was taken: expiries moved or removed, keys deleted.
      for (let i = 0; i < KEYS; i += 2) await store.persist(key(i));
      for (let i = 1; i < KEYS; i += 5) await store.delete(key(i));
      const seen = [...snapshot.entriesWithExpiry()].map((e) => ({
        key: e.key.toString(),
        value: e.value.toString(),
        expiresAt: e.expiresAt,
      }));
      expected.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      expect(seen).toEqual(expected);
      snapshot.release();
    } finally {
      await store.close();
    }
  });

  it('a range scan reads from its own snapshot: writes during the walk are not seen', async () => {
    const dir = await makeTempDir('snapshot-range');
    const store = await Store.open(dir, { segmentBytes: 8192 });
    try {
      const before = await fill(store, 'first');
      const walk = store.rangeSync();
      const seen: string[] = [];
      for (const e of walk) {
        seen.push(`${e.key}=${e.value}`);
        if (seen.length === 10) {
          // Mid-walk: delete what is ahead, overwrite it, add keys ahead.
          await Promise.all(Array.from({ length: 50 }, (_, i) => store.delete(key(20 + i))));
          await store.set(key(100), 'changed');
          await store.set(`${key(200)}~`, 'new');
        }
      }
      expect(seen).toEqual([...before].map(([k, v]) => `${k}=${v}`));
      expect((await store.stats()).snapshots.held).toBe(0);
      // Returned early: released at once.
      for (const _ of store.rangeSync()) break;
      expect((await store.stats()).snapshots.held).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('one never released is released by its timeout, with one log line', async () => {
    const dir = await makeTempDir('snapshot-timeout');
    const { warnings, logger } = recordingLogger();
    const store = await Store.open(dir, { snapshotTimeoutMs: 50, logger });
    try {
      await store.set('k', 'v');
      const snapshot = store.snapshot();
      await pollUntil('the snapshot timed out', () => snapshot.released, 10_000);
      expectThrowsWith(() => snapshot.getSync('k'), 'KV_SNAPSHOT_RELEASED');
      expect(warnings.filter((w) => w.includes('snapshotTimeoutMs'))).toHaveLength(1);
      expect((await store.stats()).snapshots.held).toBe(0);
      await store.compact(); // nothing waits for it any more
    } finally {
      await store.close();
    }
  });

  it('one dropped without release is released by the garbage collector, with one log line', async () => {
    const dir = await makeTempDir('snapshot-gc');
    const { warnings, logger } = recordingLogger();
    const store = await Store.open(dir, { logger });
    try {
      await store.set('k', 'v');
      (() => {
        store.snapshot();
      })();
      await pollUntil(
        'the garbage collector released the snapshot',
        async () => {
          fullGc();
          await new Promise((resolve) => setImmediate(resolve));
          return (await store.stats()).snapshots.held === 0;
        },
        10_000,
      );
      expect(warnings.filter((w) => w.includes('garbage collector'))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('close releases every snapshot; taking one from a closed store is KV_CLOSED', async () => {
    const dir = await makeTempDir('snapshot-close');
    const store = await Store.open(dir);
    await store.set('k', 'v');
    const snapshot = store.snapshot();
    await store.close();
    expectThrowsWith(() => snapshot.getSync('k'), 'KV_SNAPSHOT_RELEASED');
    expectThrowsWith(() => store.snapshot(), 'KV_CLOSED');
  });
});
