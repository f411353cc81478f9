// The read-modify-write operations and keys() through spawnStore: the same answers and error
// codes as the in-process Store, across the process boundary (bigints and binary included).

import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, spawnStore } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

describe('spawnStore: operations', () => {
  it('forwards incrBy, append, setWith, getDelete, expire, persist, keys, clear, compact and backup', async () => {
    const dir = await makeTempDir('ipc-ops');
    const db = await spawnStore(dir, { maxValueBytes: 8 });
    try {
      expect(await db.incrBy('n', 9007199254740993n)).toBe(9007199254740993n);
      expect(await db.incrBy('n', -1)).toBe(9007199254740992n);
      expect(await db.append('s', Buffer.from([0, 13, 10]))).toBe(3);
      const swapped = await db.setWith('s', 'new', { returnPrevious: true, ifPresent: true });
      expect(swapped.written).toBe(true);
      expect(swapped.previous).toEqual(Buffer.from([0, 13, 10]));
      expect(await db.setWith('s', 'other', { ifAbsent: true })).toEqual({
        written: false,
        previous: undefined,
      });
      expect(await db.expire('s', Date.now() + 60_000)).toBe(true);
      expect(await db.persist('s')).toBe(true);
      expect(await db.persist('s')).toBe(false);
      expect((await db.keys()).map(String).sort()).toEqual(['n', 's']);
      expect(await db.getDelete('s')).toEqual(Buffer.from('new'));
      expect(await db.getDelete('s')).toBeUndefined();
      await expect(db.incrBy('n', 1.5)).rejects.toMatchObject({ code: 'KV_INVALID_ARGUMENT' });
      await expect(db.append('n', 'xxxxxxxxx')).rejects.toMatchObject({
        code: 'KV_VALUE_TOO_LARGE',
      });
      await db.set('t', 'text');
      await expect(db.incrBy('t')).rejects.toMatchObject({ code: 'KV_NOT_INTEGER' });
      expect(await db.clear()).toBe(2);
      expect(await db.keys()).toEqual([]);
      await db.set('kept', 'compact');
      const compacted = await db.compact();
      expect(compacted.segmentsMerged).toBeGreaterThan(0);
      expect((await db.get('kept'))?.toString()).toBe('compact');
      const to = join(dir, '..', `${basename(dir)}.backup`);
      const backup = await db.backup(to);
      expect(backup.dir).toBe(to);
      await expect(db.backup(to)).rejects.toMatchObject({ code: 'KV_EXISTS' });
      await db.set('after', 'later');
      const copy = await Store.open(to);
      try {
        expect((await copy.keys()).map(String)).toEqual(['kept']);
        expect((await copy.get('kept'))?.toString()).toBe('compact');
      } finally {
        await copy.close();
        await rm(to, { recursive: true, force: true });
      }
    } finally {
      await db.close();
    }
  });
});

describe('spawnStore: range', () => {
  it('pages a range scan across the process boundary with every option, as Store.range gives it', async () => {
    const dir = await makeTempDir('ipc-range');
    const db = await spawnStore(dir, { durability: 'no' });
    try {
      // 3,000 keys: ranges longer than a page (1,024), and binary keys around the prefix.
      const keys = Array.from({ length: 3_000 }, (_, i) => `r:${String(i).padStart(5, '0')}`);
      await db.batch([
        ...keys.map((key, i) => ({ type: 'set' as const, key, value: Buffer.from([i % 256]) })),
        { type: 'set', key: Buffer.from([0x71, 0xff]), value: 'q' },
        { type: 'set', key: 's', value: 's' },
      ]);
      const collect = async (options: Parameters<typeof db.range>[0]) => {
        const out: string[] = [];
        for await (const entry of db.range(options)) {
          out.push(`${entry.key}=${entry.value === undefined ? '-' : entry.value[0]}`);
        }
        return out;
      };
      const expected = (from: number, to: number) =>
        keys.slice(from, to).map((key) => `${key}=${Number(key.slice(2)) % 256}`);
      expect(await collect({ prefix: 'r:' })).toEqual(expected(0, 3_000));
      expect(await collect({ prefix: 'r:', reverse: true })).toEqual(expected(0, 3_000).reverse());
      expect(await collect({ gte: keys[100], lt: keys[2_900], limit: 2_000 })).toEqual(
        expected(100, 2_100),
      );
      expect(
        await collect({ gt: keys[100], lte: keys[2_900], reverse: true, limit: 1_500 }),
      ).toEqual(expected(1_401, 2_901).reverse());
      expect(await collect({ prefix: 'r:', values: false, limit: 1_024 })).toEqual(
        keys.slice(0, 1_024).map((key) => `${key}=-`),
      );
      expect(await collect({ prefix: 'r:', limit: 0 })).toEqual([]);
      expect(await collect({ prefix: 'zz' })).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
