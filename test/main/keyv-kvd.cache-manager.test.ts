// cache-manager 7 on Keyv with KeyvKvd, in process: set/get/del, mset/mget/mdel, ttl (the value's
// expiry, which is the key's kvd expiry), values kvd expires, wrap, clear of Keyv's namespace
// only, and disconnect closing a store the adapter opened from a directory.

import { type Cache, createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { KeyvKvd } from '../../dist/main/keyv/index.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

let store: Store;
const caches: Cache[] = [];

/** A cache whose one store is (or whose last store is) Keyv on KeyvKvd on `store`. */
function cacheOnKvd(options: { ttl?: number; memoryTier?: boolean } = {}): Cache {
  const kvdStore = new Keyv({ store: new KeyvKvd(store) });
  const stores = options.memoryTier ? [new Keyv(), kvdStore] : [kvdStore];
  const cache = createCache({ stores, ttl: options.ttl });
  caches.push(cache);
  return cache;
}

/** Where Keyv's default namespace puts `key` in kvd. */
const stored = (key: string) => `keyv:${key}`;

/** The value kvd holds for `key`, as Keyv serialized it. */
function valueInKvd(key: string): unknown {
  const bytes = store.getSync(stored(key));
  return bytes === undefined
    ? undefined
    : (JSON.parse(bytes.toString()) as { value: unknown }).value;
}

beforeAll(async () => {
  store = await Store.open(await makeTempDir('keyv-cache'), { readers: 1 });
});
beforeEach(async () => {
  await store.clear();
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.disconnect()));
});
afterAll(async () => {
  await store.close();
  await removeTempDirs();
});

describe('cache-manager on Keyv with KeyvKvd', () => {
  it('set, get and del store JSON values in kvd without an expiry', async () => {
    const cache = cacheOnKvd();
    expect(await cache.set('user:1', { name: 'Ann', tags: ['a', 'b'] })).toEqual({
      name: 'Ann',
      tags: ['a', 'b'],
    });
    expect(await cache.get('user:1')).toEqual({ name: 'Ann', tags: ['a', 'b'] });
    expect(valueInKvd('user:1')).toEqual({ name: 'Ann', tags: ['a', 'b'] });
    expect(store.expirySync(stored('user:1'))).toBe(0);
    expect(await cache.get('user:2')).toBeUndefined();
    expect(await cache.del('user:1')).toBe(true);
    expect(store.getSync(stored('user:1'))).toBeUndefined();
    expect(await cache.get('user:1')).toBeUndefined();
  });

  it('mset writes each ttl as a kvd expiry; mget reads in order; mdel deletes', async () => {
    const cache = cacheOnKvd();
    const before = Date.now();
    await cache.mset<unknown>([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two', ttl: 60_000 },
      { key: 'c', value: [3] },
    ]);
    expect(await cache.mget(['a', 'b', 'missing', 'c'])).toEqual([1, 'two', undefined, [3]]);
    expect(store.expirySync(stored('a'))).toBe(0);
    expect(store.expirySync(stored('b'))).toBeGreaterThanOrEqual(before + 60_000);
    expect(store.expirySync(stored('b'))).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await cache.mdel(['a', 'c'])).toBe(true);
    expect((await store.keys()).map(String)).toEqual([stored('b')]);
  });

  it("ttl answers the value's expiry, which is the key's kvd expiry; the default ttl applies", async () => {
    const cache = cacheOnKvd({ ttl: 30_000 });
    const before = Date.now();
    await cache.set('default', 'v');
    await cache.set('own', 'v', 90_000);
    const expires = (await cache.ttl('own'))!;
    expect(expires).toBeGreaterThanOrEqual(before + 90_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90_000);
    // Keyv and the adapter each read Date.now() once, a few microtasks apart, in one set.
    expect(Math.abs(store.expirySync(stored('own'))! - expires)).toBeLessThanOrEqual(50);
    const byDefault = store.expirySync(stored('default'))!;
    expect(byDefault).toBeGreaterThanOrEqual(before + 30_000);
    expect(byDefault).toBeLessThanOrEqual(Date.now() + 30_000);
    expect(await cache.ttl('missing')).toBeUndefined();
  });

  it('a value set with a ttl is expired by kvd and then misses', async () => {
    const cache = cacheOnKvd();
    await cache.set('brief', 'soon gone', 500);
    await cache.set('kept', 'stays');
    expect(await cache.get('brief')).toBe('soon gone');
    await pollUntil('kvd expired brief', () => store.getSync(stored('brief')) === undefined, 5_000);
    expect(await cache.get('brief')).toBeUndefined();
    expect(await cache.mget(['brief', 'kept'])).toEqual([undefined, 'stays']);
  });

  it('wrap calls the function once, serves kvd after that, and again once kvd expired it', async () => {
    const cache = cacheOnKvd();
    let calls = 0;
    const load = async () => ({ n: ++calls });
    expect(await cache.wrap('w', load, 500)).toEqual({ n: 1 });
    expect(valueInKvd('w')).toEqual({ n: 1 });
    const concurrent = await Promise.all([cache.wrap('w', load, 500), cache.wrap('w', load, 500)]);
    expect(concurrent).toEqual([{ n: 1 }, { n: 1 }]);
    expect(calls).toBe(1);
    await pollUntil('kvd expired w', () => store.getSync(stored('w')) === undefined, 5_000);
    expect(await cache.wrap('w', load, 60_000)).toEqual({ n: 2 });
    expect(valueInKvd('w')).toEqual({ n: 2 });
    expect(calls).toBe(2);
  });

  it("clear empties Keyv's namespace in kvd and leaves other keys", async () => {
    const cache = cacheOnKvd();
    await cache.mset(Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i })));
    await store.set('not-cached', 'x');
    await store.set('other:k1', 'x');
    expect((await store.keys()).length).toBe(32);
    expect(await cache.clear()).toBe(true);
    expect((await store.keys()).map(String)).toEqual(['not-cached', 'other:k1']);
    expect(await cache.get('k1')).toBeUndefined();
  });

  it('a memory tier in front of kvd: another cache finds what the first one stored', async () => {
    const first = cacheOnKvd({ memoryTier: true });
    const second = cacheOnKvd({ memoryTier: true });
    await first.set('shared', { from: 'first' }, 60_000);
    let called = false;
    const value = await second.wrap('shared', () => {
      called = true;
      return { from: 'second' };
    });
    expect(value).toEqual({ from: 'first' });
    expect(called).toBe(false);
    await store.delete(stored('shared'));
    expect(await second.get('shared')).toEqual({ from: 'first' }); // its memory tier
    expect(await second.stores[1]!.get('shared')).toBeUndefined();
  });

  it('disconnect closes a store the adapter opened from a directory, and it reopens', async () => {
    const dir = await makeTempDir('keyv-cache-dir');
    const cache = createCache({
      stores: [new Keyv({ store: new KeyvKvd(dir, { store: { readers: 1 } }) })],
    });
    await cache.set('persisted', { ok: true });
    await cache.disconnect();
    const reopened = await Store.open(dir, { readers: 1 });
    try {
      expect(JSON.parse(reopened.getSync(stored('persisted'))!.toString())).toEqual({
        value: { ok: true },
      });
    } finally {
      await reopened.close();
    }
  });
});
