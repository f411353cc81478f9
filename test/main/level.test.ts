// KvdLevel beyond abstract-level's own suite (level.suite.test.ts): the `kvd/level` subpath
// resolves through the package's exports, data persists across close and reopen, keys sort
// bytewise, explicit and implicit snapshots hold while writes go on, a range clear deletes
// exactly its range and never a write made after it was called, seek in both directions, and
// kvd's errors arrive with abstract-level's codes.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvdLevel } from '../../dist/main/level/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const opened: KvdLevel<string, string>[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
  await removeTempDirs();
});

async function openLevel(dir?: string): Promise<KvdLevel<string, string>> {
  const db = new KvdLevel(dir ?? (await makeTempDir('level')), { store: { readers: 1 } });
  opened.push(db);
  await db.open();
  return db;
}

const key = (i: number) => `k${String(i).padStart(4, '0')}`;

async function fill(db: KvdLevel<string, string>, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => key(i));
  await db.batch(keys.map((k) => ({ type: 'put' as const, key: k, value: `v-${k}` })));
  return keys;
}

describe('the kvd/level subpath', () => {
  it("resolves through package.json's exports and opens a database", async () => {
    const dir = await makeTempDir('level-subpath');
    const script = `
      const { KvdLevel } = await import('kvd/level');
      const db = new KvdLevel(process.argv[1], { store: { readers: 1 } });
      await db.put('greeting', 'hello');
      console.log(typeof KvdLevel, await db.get('greeting'));
      await db.close();`;
    const output = execFileSync(
      process.execPath,
      ['--input-type=module', '--eval', script, join(dir, 'db')],
      { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' },
    );
    expect(output.trim()).toBe('function hello');
  });
});

describe('KvdLevel', () => {
  it('keeps its data across close and reopen, on the same instance and a new one', async () => {
    const dir = await makeTempDir('level-persist');
    const db = await openLevel(dir);
    const keys = await fill(db, 300);
    await db.del(key(7));
    await db.batch().put('extra', 'x').del(key(8)).write();
    await db.close();
    await db.open();
    expect(await db.get(key(9))).toBe(`v-${key(9)}`);
    await db.close();
    const again = await openLevel(dir);
    const expected = ['extra', ...keys.filter((k) => k !== key(7) && k !== key(8))];
    expect(await again.keys().all()).toEqual(expected);
    expect(await again.getMany([key(7), key(8), 'extra'])).toEqual([undefined, undefined, 'x']);
  });

  it('sorts keys bytewise: bytes above 0x7f, and strings by their UTF-8 bytes', async () => {
    const db = await openLevel();
    const bytes = [0xc0, 0x80, 0xb9, 0x00, 0xff].map((b) => Buffer.from([b]));
    await db.batch<Buffer, string>(
      bytes.map((k) => ({ type: 'put', key: k, value: 'x' })),
      { keyEncoding: 'buffer' },
    );
    const keys = await db.keys<Buffer>({ keyEncoding: 'buffer' }).all();
    expect(keys.map((k) => k[0])).toEqual([0x00, 0x80, 0xb9, 0xc0, 0xff]);
    await db.clear();
    for (const k of ['é', 'z', 'Z', '🐄', 'a']) await db.put(k, k);
    expect(await db.keys().all()).toEqual(['Z', 'a', 'z', 'é', '🐄']);
    expect(await db.keys({ gt: 'z', reverse: true }).all()).toEqual(['🐄', 'é']);
  });

  it('reports a store another database holds as LEVEL_LOCKED', async () => {
    const dir = await makeTempDir('level-locked');
    await openLevel(dir);
    const second = new KvdLevel(dir, { store: { readers: 1 } });
    await expect(second.open()).rejects.toMatchObject({
      code: 'LEVEL_DATABASE_NOT_OPEN',
      cause: { code: 'LEVEL_LOCKED', cause: { code: 'KV_LOCKED' } },
    });
  });
});

describe('KvdLevel snapshots', () => {
  it('an explicit snapshot sees only the writes before it while puts and dels go on', async () => {
    const db = await openLevel();
    const keys = await fill(db, 400);
    const before = new Map(keys.map((k) => [k, `v-${k}`]));
    const snapshot = db.snapshot();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 3 === 0) writes.push(db.del(key(i)));
      else writes.push(db.put(key(i), `after-${i}`));
      if (i % 50 === 0) writes.push(db.put(`new-${i}`, 'x'));
    }
    // Reads through the snapshot while the writes are in flight, and after they landed.
    const during = await db.iterator({ snapshot }).all();
    await Promise.all(writes);
    expect(during).toEqual([...before]);
    expect(await db.iterator({ snapshot }).all()).toEqual([...before]);
    expect(await db.values({ snapshot, gte: key(10), lt: key(13) }).all()).toEqual(
      [10, 11, 12].map((i) => `v-${key(i)}`),
    );
    expect(await db.get(key(0), { snapshot })).toBe(`v-${key(0)}`);
    expect(db.getSync(key(1), { snapshot })).toBe(`v-${key(1)}`);
    expect(await db.getMany([key(3), 'new-0'], { snapshot })).toEqual([`v-${key(3)}`, undefined]);
    expect(await db.has(key(3), { snapshot })).toBe(true);
    expect(await db.has(key(3))).toBe(false);
    expect(await db.get(key(1))).toBe('after-1');
    await snapshot.close();
    await expect(db.get(key(1), { snapshot })).rejects.toMatchObject({
      code: 'LEVEL_SNAPSHOT_NOT_OPEN',
    });
  });

  it('an iterator reads from a snapshot taken when it is created, across seeks', async () => {
    const db = await openLevel();
    await fill(db, 50);
    const iterator = db.iterator();
    await db.put(key(25), 'changed');
    await db.put('a-first', 'new');
    await db.del(key(30));
    expect(await iterator.next()).toEqual([key(0), `v-${key(0)}`]);
    iterator.seek(key(25));
    expect(await iterator.nextv(6)).toEqual(
      [25, 26, 27, 28, 29, 30].map((i) => [key(i), `v-${key(i)}`]),
    );
    iterator.seek('a');
    expect(await iterator.next()).toEqual([key(0), `v-${key(0)}`]);
    await iterator.close();
    expect(await db.get(key(25))).toBe('changed');
  });
});

describe('KvdLevel clear', () => {
  const COUNT = 2600;
  const cases: { name: string; range: Record<string, unknown>; kept: (i: number) => boolean }[] = [
    { name: 'gte/lt', range: { gte: key(500), lt: key(2100) }, kept: (i) => i < 500 || i >= 2100 },
    { name: 'gt/lte', range: { gt: key(500), lte: key(2100) }, kept: (i) => i <= 500 || i > 2100 },
    { name: 'limit', range: { gte: key(10), limit: 1500 }, kept: (i) => i < 10 || i >= 1510 },
    {
      name: 'reverse with limit',
      range: { lt: key(2000), reverse: true, limit: 1200 },
      kept: (i) => i < 800 || i >= 2000,
    },
    { name: 'an empty range', range: { gt: key(9), lt: key(10) }, kept: () => true },
    { name: 'lte past the end', range: { gte: key(2590), lte: 'z' }, kept: (i) => i < 2590 },
  ];
  for (const { name, range, kept } of cases) {
    it(`with ${name} deletes exactly that range`, async () => {
      const db = await openLevel();
      const keys = await fill(db, COUNT);
      await db.put('a-before', 'x');
      await db.clear(range);
      expect(await db.keys().all()).toEqual(['a-before', ...keys.filter((_, i) => kept(i))]);
    });
  }

  it('never deletes a write made after it was called', async () => {
    const db = await openLevel();
    await fill(db, COUNT);
    // The first slice of deletes is decided at the call; the put lands before later slices.
    const clearing = db.clear({ gte: key(0) });
    await db.put(key(2500), 'written during clear');
    await clearing;
    expect(await db.iterator().all()).toEqual([[key(2500), 'written during clear']]);
  });

  it('with an explicit snapshot deletes what the snapshot holds in the range', async () => {
    const db = await openLevel();
    await fill(db, 20);
    const snapshot = db.snapshot();
    await db.put('k0005-later', 'x');
    await db.clear({ snapshot, gte: key(5), lt: key(15) });
    await snapshot.close();
    const expected = [...Array.from({ length: 5 }, (_, i) => key(i)), 'k0005-later'];
    expected.push(...Array.from({ length: 5 }, (_, i) => key(15 + i)));
    expect(await db.keys().all()).toEqual(expected);
  });
});

describe('KvdLevel seek', () => {
  it('forwards: to a key, between keys, past the range, and back again', async () => {
    const db = await openLevel();
    await fill(db, 100);
    const keys = db.keys({ gte: key(10), lt: key(90) });
    keys.seek(key(42));
    expect(await keys.nextv(3)).toEqual([key(42), key(43), key(44)]);
    keys.seek(`${key(50)}!`);
    expect(await keys.next()).toBe(key(51));
    keys.seek(key(5));
    expect(await keys.next()).toBe(key(10));
    keys.seek(key(95));
    expect(await keys.next()).toBeUndefined();
    keys.seek(key(88));
    expect(await keys.all()).toEqual([key(88), key(89)]);
  });

  it('in reverse: to a key, between keys, past the range, within the limit', async () => {
    const db = await openLevel();
    await fill(db, 100);
    const values = db.values({ gt: key(10), lte: key(90), reverse: true, limit: 5 });
    values.seek(key(42));
    expect(await values.nextv(2)).toEqual([`v-${key(42)}`, `v-${key(41)}`]);
    values.seek(`${key(50)}!`);
    expect(await values.next()).toBe(`v-${key(50)}`);
    values.seek('z');
    expect(await values.next()).toBe(`v-${key(90)}`);
    values.seek(key(10));
    expect(await values.next()).toBeUndefined();
    values.seek(key(60));
    expect(await values.all()).toEqual([`v-${key(60)}`]);
    expect(values.count).toBe(5);
  });
});
