// Versions and conditional batches (issue "Redis compatibility"): `version(key)` is the sequence
// number of the key's current record, `entrySync` reads a value with its version in one go, and
// `batch(ops, { ifVersions })` applies only if every listed key still has its version, else
// rejects with KV_CONFLICT and writes nothing, so read-modify-write loops lose no update.

import { afterEach, describe, expect, it } from 'vitest';
import { type KvError, Store, type StoreOptions } from '../../dist/main/index.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const OPTIONS: StoreOptions = { readers: 1, durability: 'no', compaction: { auto: false } };

describe('version and entrySync', () => {
  it('change with every write of the key, and are undefined for an absent or expired key', async () => {
    const store = await Store.open(await makeTempDir('versions'), OPTIONS);
    try {
      expect(store.version('k')).toBeUndefined();
      await store.set('k', 'one');
      const v1 = store.version('k')!;
      expect(v1).toBeGreaterThan(0);
      await store.set('other', 'x');
      expect(store.version('k')).toBe(v1); // another key's write does not change it
      await store.set('k', 'two', { expiresAt: Date.now() + 60_000 });
      const entry = store.entrySync('k')!;
      expect(entry.version).toBeGreaterThan(v1);
      expect(entry.value.toString()).toBe('two');
      expect(entry.expiresAt).toBeGreaterThan(Date.now());
      expect(store.version('k')).toBe(entry.version);
      await store.delete('k');
      expect(store.version('k')).toBeUndefined();
      expect(store.entrySync('k')).toBeUndefined();
      await store.set('short', 'v', { expiresAt: Date.now() + 30 });
      expect(store.version('short')).toBeDefined();
      await pollUntil('short expires', () => store.version('short') === undefined, 5_000);
    } finally {
      await store.close();
    }
  });
});

describe('batch with ifVersions', () => {
  it('applies while every key still has its version, and otherwise writes nothing (KV_CONFLICT)', async () => {
    const store = await Store.open(await makeTempDir('if-versions'), OPTIONS);
    try {
      await store.set('a', '1');
      const va = store.version('a');
      // The versions hold: the batch applies, b must still be absent.
      await store.batch(
        [
          { type: 'set', key: 'a', value: '2' },
          { type: 'set', key: 'b', value: 'new' },
        ],
        {
          ifVersions: [
            ['a', va],
            ['b', undefined],
          ],
        },
      );
      expect((await store.getMany(['a', 'b'])).map(String)).toEqual(['2', 'new']);
      // a changed since va: nothing of the batch is written.
      const error = await expectRejectsWith(
        store.batch(
          [
            { type: 'set', key: 'a', value: '3' },
            { type: 'delete', key: 'b' },
          ],
          { ifVersions: new Map([['a', va]]) },
        ),
        'KV_CONFLICT',
      );
      expect(error.message).toMatch(/"a" changed/);
      expect((await store.getMany(['a', 'b'])).map(String)).toEqual(['2', 'new']);
      // "Must be absent" fails for a key that exists.
      await expectRejectsWith(
        store.batch([{ type: 'set', key: 'b', value: 'x' }], { ifVersions: [['b', undefined]] }),
        'KV_CONFLICT',
      );
      // Other writes of the same turn are not affected by a conflict.
      const [plain, conflicted] = await Promise.allSettled([
        store.set('c', 'plain'),
        store.batch([{ type: 'set', key: 'd', value: 'no' }], { ifVersions: [['a', va]] }),
      ]);
      expect(plain.status).toBe('fulfilled');
      expect(conflicted.status === 'rejected' && (conflicted.reason as KvError).code).toBe(
        'KV_CONFLICT',
      );
      expect([(await store.get('c'))?.toString(), await store.get('d')]).toEqual([
        'plain',
        undefined,
      ]);
    } finally {
      await store.close();
    }
  });

  it('loses no update when concurrent read-modify-write loops retry on KV_CONFLICT', async () => {
    const store = await Store.open(await makeTempDir('cas'), OPTIONS);
    try {
      await store.set('counter', '0');
      let conflicts = 0;
      const increment = async () => {
        for (;;) {
          const entry = store.entrySync('counter')!;
          const next = String(Number(entry.value.toString()) + 1);
          try {
            await store.batch([{ type: 'set', key: 'counter', value: next }], {
              ifVersions: [['counter', entry.version]],
            });
            return;
          } catch (error) {
            if ((error as KvError).code !== 'KV_CONFLICT') throw error;
            conflicts++;
          }
        }
      };
      await Promise.all(Array.from({ length: 200 }, increment));
      expect((await store.get('counter'))?.toString()).toBe('200');
      expect(conflicts).toBeGreaterThan(0); // they did race
    } finally {
      await store.close();
    }
  });

  it('refuses malformed ifVersions with KV_INVALID_ARGUMENT', async () => {
    const store = await Store.open(await makeTempDir('if-versions-bad'), OPTIONS);
    try {
      const ops = [{ type: 'set' as const, key: 'a', value: '1' }];
      await expectRejectsWith(store.batch(ops, { ifVersions: [['a', -1]] }), 'KV_INVALID_ARGUMENT');
      await expectRejectsWith(
        store.batch(ops, { ifVersions: [['a', 1.5]] }),
        'KV_INVALID_ARGUMENT',
      );
      await expectRejectsWith(
        store.batch(ops, { ifVersions: 5 as unknown as [] }),
        'KV_INVALID_ARGUMENT',
      );
    } finally {
      await store.close();
    }
  });
});
