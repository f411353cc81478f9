// "Absent since" checks (issue "Redis compatibility", WATCH on a key that did not exist):
// `sequence()` is the write through which reads see everything, and `batch(ops, {
// ifAbsentSince })` applies only if each listed key is absent and had no value after the given
// sequence number, so a key created and deleted (or created and expired) meanwhile conflicts,
// while removals of values older than it do not. `batch([], ...)` checks without writing.

import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const OPTIONS: StoreOptions = { readers: 1, durability: 'no', compaction: { auto: false } };
const SET = [{ type: 'set' as const, key: 'out', value: 'written' }];

async function withStore(options: StoreOptions, body: (store: Store) => Promise<void>) {
  const store = await Store.open(await makeTempDir('absent-since'), options);
  try {
    await body(store);
  } finally {
    await store.close();
  }
}

describe('sequence()', () => {
  it('follows every acknowledged write, and a reopen starts from the last one', async () => {
    const dir = await makeTempDir('sequence');
    let store = await Store.open(dir, OPTIONS);
    try {
      const start = store.sequence();
      await store.set('a', '1');
      expect(store.sequence()).toBeGreaterThanOrEqual(store.version('a')!);
      await store.batch([
        { type: 'set', key: 'b', value: '2' },
        { type: 'delete', key: 'a' },
      ]);
      const after = store.sequence();
      expect(after).toBeGreaterThan(start);
      expect(after).toBeGreaterThanOrEqual(store.version('b')!);
      await store.close();
      store = await Store.open(dir, OPTIONS);
      expect(store.sequence()).toBeGreaterThanOrEqual(store.version('b')!);
    } finally {
      await store.close();
    }
  });
});

describe('batch with ifAbsentSince', () => {
  it('applies while the key stays absent, and conflicts once it was written, even if deleted again', async () => {
    await withStore(OPTIONS, async (store) => {
      const since = store.sequence();
      await store.set('other', 'x'); // another key's writes do not matter
      await store.delete('other');
      await store.batch(SET, { ifAbsentSince: [['k', since]] });
      expect(store.getSync('out')?.toString()).toBe('written');

      const watched = store.sequence();
      await store.set('k', 'v');
      await store.delete('k');
      expect(store.version('k')).toBeUndefined(); // absent again: ifVersions cannot tell
      await store.batch([], { ifVersions: [['k', undefined]] });
      await expectRejectsWith(
        store.batch([{ type: 'set', key: 'out', value: 'lost' }], {
          ifAbsentSince: new Map([['k', watched]]),
        }),
        'KV_CONFLICT',
      );
      expect(store.getSync('out')?.toString()).toBe('written');
      // A sequence number read after the delete: the key has been absent since.
      await store.batch(SET, { ifAbsentSince: [['k', store.sequence()]] });
    });
  });

  it('conflicts when the key exists now, and when it was written and expired meanwhile', async () => {
    await withStore({ ...OPTIONS, expiryCycleMs: 5 }, async (store) => {
      await store.set('present', 'v');
      await expectRejectsWith(
        store.batch(SET, { ifAbsentSince: [['present', store.sequence()]] }),
        'KV_CONFLICT',
      );
      const since = store.sequence();
      await store.set('brief', 'v', { expiresAt: Date.now() + 20 });
      await pollUntil(
        'the expiry cycle deleted it',
        async () => (await store.stats()).writer.expiredKeys === 1,
        5_000,
      );
      await expectRejectsWith(
        store.batch([], { ifAbsentSince: [['brief', since]] }),
        'KV_CONFLICT',
      );
    });
  });

  it('does not conflict for a key whose value had expired before the sequence number', async () => {
    await withStore({ ...OPTIONS, expiryCycleMs: 0 }, async (store) => {
      await store.set('old', 'v', { expiresAt: Date.now() + 20 });
      await pollUntil('it expired', () => store.version('old') === undefined, 5_000);
      const since = store.sequence(); // absent (expired) here, its record still in the index
      expect(store.getSync('old')).toBeUndefined(); // the read has it deleted
      await pollUntil('it is deleted', async () => (await store.stats()).keys === 0, 5_000);
      await store.batch(SET, { ifAbsentSince: [['old', since]] });
      // A merge dropping an expired value older than the sequence number does not either.
      const expiresAt = Date.now() + 20;
      await store.set('older', 'v', { expiresAt });
      await pollUntil('it expired', () => Date.now() > expiresAt + 1, 5_000);
      const since2 = store.sequence();
      await store.compact();
      expect((await store.stats()).keys).toBe(1); // 'out' only: the merge took 'older' out
      await store.batch([], { ifAbsentSince: [['older', since2]] });
    });
  });

  it('conflicts when a merge dropped a value written after the sequence number', async () => {
    await withStore({ ...OPTIONS, expiryCycleMs: 0 }, async (store) => {
      const since = store.sequence();
      const expiresAt = Date.now() + 20;
      await store.set('dropped', 'v', { expiresAt });
      // No read of the key (a read would have it deleted): only the merge takes it out.
      await pollUntil('it expired', () => Date.now() > expiresAt + 1, 5_000);
      await store.compact();
      const stats = await store.stats();
      expect(stats.keys).toBe(0);
      expect(stats.writer.expiredKeys).toBe(0);
      await expectRejectsWith(
        store.batch([], { ifAbsentSince: [['dropped', since]] }),
        'KV_CONFLICT',
      );
    });
  });

  it('conflicts, rather than miss a change, once more keys were removed than it remembers', async () => {
    await withStore(OPTIONS, async (store) => {
      const since = store.sequence();
      const keys = 70_000; // past the 65,536 removals remembered
      for (let i = 0; i < keys; i += 10_000) {
        const ops = Array.from({ length: 10_000 }, (_, j) => ({
          type: 'set' as const,
          key: `k${i + j}`,
          value: 'v',
        }));
        await store.batch(ops);
        await store.batch(ops.map(({ key }) => ({ type: 'delete' as const, key })));
      }
      await expectRejectsWith(
        store.batch([], { ifAbsentSince: [['never-written', since]] }),
        'KV_CONFLICT',
      );
      await store.batch([], { ifAbsentSince: [['never-written', store.sequence()]] });
    });
  });

  it('checks alone with no operations, refusing nothing queued after a failed one', async () => {
    await withStore(OPTIONS, async (store) => {
      await store.set('a', '1');
      const v = store.version('a')!;
      await store.batch([], { ifVersions: [['a', v]] });
      await store.set('a', '2');
      // Queued in the same turn: the failed check must not take the set after it with it.
      const [check, set] = await Promise.allSettled([
        store.batch([], { ifVersions: [['a', v]] }),
        store.set('b', 'after'),
      ]);
      expect(check.status).toBe('rejected');
      expect((check as PromiseRejectedResult).reason.code).toBe('KV_CONFLICT');
      expect(set.status).toBe('fulfilled');
      expect(store.getSync('b')?.toString()).toBe('after');
    });
  });

  it('refuses malformed ifAbsentSince with KV_INVALID_ARGUMENT', async () => {
    await withStore(OPTIONS, async (store) => {
      await expectRejectsWith(
        store.batch(SET, { ifAbsentSince: [['a', -1]] }),
        'KV_INVALID_ARGUMENT',
      );
      await expectRejectsWith(
        store.batch(SET, { ifAbsentSince: [['a', 0.5]] }),
        'KV_INVALID_ARGUMENT',
      );
      await expectRejectsWith(
        store.batch(SET, { ifAbsentSince: 3 as unknown as [] }),
        'KV_INVALID_ARGUMENT',
      );
      expect(store.getSync('out')).toBeUndefined();
    });
  });
});
