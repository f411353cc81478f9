// cache-manager on Keyv with @keyv/redis, unchanged, against `kvd serve`: set/get/del, mset/mget,
// ttl, wrap (cached, expiring, refreshed in the background), clear, values expiring in kvd, and a
// memory tier in front of kvd shared by two caches.

import KeyvRedis from '@keyv/redis';
import { type Cache, createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

let server: TestServer;
let client: ReturnType<typeof createClient>;
const caches: Cache[] = [];

/** A cache whose one store is (or whose last store is) Keyv on KeyvRedis on kvd. */
function cacheOnKvd(options: { ttl?: number; memoryTier?: boolean } = {}): Cache {
  const kvdStore = new Keyv({ store: new KeyvRedis(`redis://127.0.0.1:${server.port}`) });
  const stores = options.memoryTier ? [new Keyv(), kvdStore] : [kvdStore];
  const cache = createCache({ stores, ttl: options.ttl });
  caches.push(cache);
  return cache;
}

/** Where Keyv's default namespace puts `key` in kvd. */
const stored = (key: string) => `keyv::keyv:${key}`;

/** The value kvd holds for `key`, as Keyv serialized it. */
async function valueInKvd(key: string): Promise<unknown> {
  const text = await client.get(stored(key));
  return text === null ? undefined : (JSON.parse(text) as { value: unknown }).value;
}

beforeAll(async () => {
  server = await startTestServer();
  client = createClient({ url: `redis://127.0.0.1:${server.port}` });
  await client.connect();
});
beforeEach(async () => {
  await client.flushAll();
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.disconnect()));
});
afterAll(async () => {
  await client.close();
  await server.close();
  await removeTempDirs();
});

describe('cache-manager on Keyv with @keyv/redis on kvd', () => {
  it('set, get and del store JSON values in kvd', async () => {
    const cache = cacheOnKvd();
    expect(await cache.set('user:1', { name: 'Ann', tags: ['a', 'b'] })).toEqual({
      name: 'Ann',
      tags: ['a', 'b'],
    });
    expect(await cache.get('user:1')).toEqual({ name: 'Ann', tags: ['a', 'b'] });
    expect(await valueInKvd('user:1')).toEqual({ name: 'Ann', tags: ['a', 'b'] });
    expect(await client.pTTL(stored('user:1'))).toBe(-1);
    expect(await cache.get('user:2')).toBeUndefined();
    expect(await cache.del('user:1')).toBe(true);
    expect(await client.exists(stored('user:1'))).toBe(0);
    expect(await cache.get('user:1')).toBeUndefined();
  });

  it('mset goes through MULTI/EXEC with each ttl; mget reads through MGET; mdel deletes', async () => {
    const cache = cacheOnKvd();
    await cache.mset<unknown>([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two', ttl: 60_000 },
      { key: 'c', value: [3] },
    ]);
    expect(await cache.mget(['a', 'b', 'missing', 'c'])).toEqual([1, 'two', undefined, [3]]);
    expect(await client.pTTL(stored('a'))).toBe(-1);
    const pttl = await client.pTTL(stored('b'));
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await cache.mdel(['a', 'c'])).toBe(true);
    expect(await client.keys('*')).toEqual([stored('b')]);
  });

  it("ttl answers the value's expiry time, matching the key's PTTL in kvd; the default ttl applies", async () => {
    const cache = cacheOnKvd({ ttl: 30_000 });
    const before = Date.now();
    await cache.set('default', 'v');
    await cache.set('own', 'v', 90_000);
    const expires = (await cache.ttl('own'))!;
    expect(expires).toBeGreaterThanOrEqual(before + 90_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90_000);
    const pttl = await client.pTTL(stored('own'));
    expect(Math.abs(expires - Date.now() - pttl)).toBeLessThan(1_000);
    const defaultPttl = await client.pTTL(stored('default'));
    expect(defaultPttl).toBeGreaterThan(25_000);
    expect(defaultPttl).toBeLessThanOrEqual(30_000);
    expect(await cache.ttl('missing')).toBeUndefined();
  });

  it('a value set with a ttl is expired by kvd and then misses', async () => {
    const cache = cacheOnKvd();
    await cache.set('brief', 'soon gone', 150);
    await cache.set('kept', 'stays');
    expect(await cache.get('brief')).toBe('soon gone');
    await pollUntil(
      'kvd expired brief',
      async () => (await client.exists(stored('brief'))) === 0,
      5_000,
    );
    expect(await cache.get('brief')).toBeUndefined();
    expect(await cache.mget(['brief', 'kept'])).toEqual([undefined, 'stays']);
  });

  it('wrap calls the function once, serves kvd after that, and calls it again once kvd expired it', async () => {
    const cache = cacheOnKvd();
    let calls = 0;
    const load = async () => ({ n: ++calls });
    expect(await cache.wrap('w', load, 200)).toEqual({ n: 1 });
    expect(await valueInKvd('w')).toEqual({ n: 1 });
    const concurrent = await Promise.all([cache.wrap('w', load, 200), cache.wrap('w', load, 200)]);
    expect(concurrent).toEqual([{ n: 1 }, { n: 1 }]);
    expect(calls).toBe(1);
    await pollUntil('kvd expired w', async () => (await client.exists(stored('w'))) === 0, 5_000);
    expect(await cache.wrap('w', load, 60_000)).toEqual({ n: 2 });
    expect(await valueInKvd('w')).toEqual({ n: 2 });
    expect(calls).toBe(2);
  });

  it('wrap with a refreshThreshold answers the cached value and refreshes it in kvd', async () => {
    const cache = cacheOnKvd();
    let version = 0;
    const load = async () => `v${++version}`;
    expect(await cache.wrap('r', load, 60_000, 59_999)).toBe('v1');
    // Under the threshold from the first read on: the old value, and a refresh in the background.
    await pollUntil(
      'a refresh was due',
      async () => (await client.pTTL(stored('r'))) < 59_999,
      5_000,
    );
    expect(await cache.wrap('r', load, 60_000, 59_999)).toBe('v1');
    await pollUntil('the refresh reached kvd', async () => (await valueInKvd('r')) === 'v2', 5_000);
    expect(await client.pTTL(stored('r'))).toBeGreaterThan(50_000);
  });

  it("clear empties Keyv's namespace in kvd (SCAN and UNLINK) and leaves other keys", async () => {
    const cache = cacheOnKvd();
    await cache.mset(Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i })));
    await client.set('not-cached', 'x');
    expect(await client.dbSize()).toBe(31);
    expect(await cache.clear()).toBe(true);
    expect(await client.keys('*')).toEqual(['not-cached']);
    expect(await cache.get('k1')).toBeUndefined();
  });

  it('a memory tier in front of kvd: another cache finds what the first one stored', async () => {
    const first = cacheOnKvd({ memoryTier: true });
    const second = cacheOnKvd({ memoryTier: true });
    await first.set('shared', { from: 'first' }, 60_000);
    expect(await valueInKvd('shared')).toEqual({ from: 'first' });
    let called = false;
    const value = await second.wrap('shared', () => {
      called = true;
      return { from: 'second' };
    });
    expect(value).toEqual({ from: 'first' });
    expect(called).toBe(false);
    // The memory tier of `second` now holds it: deleting it in kvd alone does not hide it there.
    await client.del(stored('shared'));
    expect(await second.get('shared')).toEqual({ from: 'first' });
    expect(await second.stores[1]!.get('shared')).toBeUndefined();
  });
});
