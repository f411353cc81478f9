// Keyv with @keyv/redis, unchanged, against `kvd serve`: the @keyv/test-suite parts @keyv/redis
// runs against real Redis (API, values, namespaces, iterator), over RESP2 and RESP3; then the
// adapter's own features over MULTI/EXEC, UNLINK, SCAN MATCH/COUNT/TYPE and MGET; TTLs in kvd.

import KeyvRedis from '@keyv/redis';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { Keyv } from 'keyv';
import { createClient } from 'redis';
import * as vitest from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

let server: TestServer;
let url: string;
const stores: KeyvRedis<unknown>[] = [];
const newClient = () => createClient({ url });
type RedisClient = ReturnType<typeof newClient>;
const raws: RedisClient[] = [];

/** A fresh adapter on kvd (RESP2, @keyv/redis's default), disconnected after the test. */
function store(options?: ConstructorParameters<typeof KeyvRedis>[1], resp: 2 | 3 = 2) {
  const connect = resp === 2 ? url : { url, RESP: resp };
  const adapter = new KeyvRedis<unknown>(connect, { throwOnErrors: true, ...options });
  stores.push(adapter);
  return adapter;
}

/** A plain node-redis client, to look at what the adapter left in kvd. */
async function raw(): Promise<RedisClient> {
  const client = newClient();
  raws.push(client);
  await client.connect();
  return client;
}

beforeAll(async () => {
  server = await startTestServer();
  url = `redis://127.0.0.1:${server.port}`;
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((adapter) => adapter.disconnect()));
  await Promise.all(raws.splice(0).map((client) => client.close()));
});
afterAll(async () => {
  await server.close();
  await removeTempDirs();
});

describe('@keyv/test-suite: keyvTestSuite (api, values, namespaces)', () => {
  keyvTestSuite(vitest, Keyv, () => store());
});

describe('@keyv/test-suite: keyvIteratorTests', () => {
  keyvIteratorTests(vitest, Keyv, () => store());
});

describe('@keyv/test-suite over RESP3 (HELLO 3)', () => {
  keyvTestSuite(vitest, Keyv, () => store(undefined, 3));
  keyvIteratorTests(vitest, Keyv, () => store(undefined, 3));
});

/** `calls=` of each named command in INFO commandstats (0 if never called). */
async function calls(client: RedisClient, ...names: string[]): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const counts: Record<string, number> = {};
  for (const name of names) {
    const match = new RegExp(`^cmdstat_${name}:calls=(\\d+),`, 'm').exec(info);
    counts[name] = match ? Number(match[1]) : 0;
  }
  return counts;
}

describe('@keyv/redis features on kvd', () => {
  it('setMany writes every entry in one MULTI/EXEC, with PX on those that have a ttl', async () => {
    const client = await raw();
    const adapter = store({ namespace: 'bulk' });
    const before = await calls(client, 'multi', 'exec', 'set');
    await adapter.setMany([
      { key: 'a', value: '1' },
      { key: 'b', value: '2', ttl: 60_000 },
      { key: 'c', value: '3' },
    ]);
    expect(await client.mGet(['bulk::a', 'bulk::b', 'bulk::c'])).toEqual(['1', '2', '3']);
    expect(await client.pTTL('bulk::a')).toBe(-1);
    const pttl = await client.pTTL('bulk::b');
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    const after = await calls(client, 'multi', 'exec', 'set');
    expect(after).toEqual({
      multi: before.multi! + 1,
      exec: before.exec! + 1,
      set: before.set! + 3,
    });
  });

  it('getMany answers through MGET in order, has and hasMany through EXISTS', async () => {
    const client = await raw();
    const adapter = store({ namespace: 'many' });
    await client.mSet({ 'many::x': 'X', 'many::z': 'Z', x: 'not in the namespace' });
    expect(await adapter.getMany(['x', 'y', 'z'])).toEqual(['X', undefined, 'Z']);
    expect(await adapter.getMany([])).toEqual([]);
    expect(await adapter.has('x')).toBe(true);
    expect(await adapter.has('y')).toBe(false);
    expect(await adapter.hasMany(['z', 'y', 'x'])).toEqual([true, false, true]);
    expect(await adapter.get('z')).toBe('Z');
    expect(await adapter.get('y')).toBeUndefined();
  });

  it('delete and deleteMany go through UNLINK (DEL with useUnlink false)', async () => {
    const client = await raw();
    const adapter = store({ namespace: 'del' });
    await client.mSet({ 'del::a': '1', 'del::b': '2', 'del::c': '3', 'del::d': '4' });
    const before = await calls(client, 'unlink', 'del', 'multi');
    expect(await adapter.delete('a')).toBe(true);
    expect(await adapter.delete('a')).toBe(false);
    expect(await adapter.deleteMany(['b', 'nope', 'c'])).toBe(true);
    expect(await adapter.deleteMany(['b', 'nope'])).toBe(false);
    expect(await client.exists(['del::a', 'del::b', 'del::c', 'del::d'])).toBe(1);
    const middle = await calls(client, 'unlink', 'del', 'multi');
    expect(middle.unlink).toBe(before.unlink! + 2 + 5);
    expect(middle.multi).toBe(before.multi! + 2);
    expect(middle.del).toBe(before.del);

    const withDel = store({ namespace: 'del', useUnlink: false });
    expect(await withDel.delete('d')).toBe(true);
    expect(await client.exists('del::d')).toBe(0);
    const after = await calls(client, 'unlink', 'del');
    expect(after).toEqual({ unlink: middle.unlink, del: middle.del! + 1 });
  });

  it('clear() with a namespace scans past clearBatchSize and unlinks only that namespace', async () => {
    const client = await raw();
    await client.flushAll();
    const keys: Record<string, string> = {};
    for (let i = 0; i < 250; i++) keys[`big::k${i}`] = String(i);
    for (let i = 0; i < 20; i++) keys[`other::k${i}`] = String(i);
    for (let i = 0; i < 5; i++) keys[`plain${i}`] = String(i);
    await client.mSet(keys);
    const before = await calls(client, 'scan', 'unlink');
    const adapter = store({ namespace: 'big', clearBatchSize: 40 });
    await adapter.clear();
    expect(await client.dbSize()).toBe(25);
    expect(await client.keys('big::*')).toEqual([]);
    expect((await client.keys('other::*')).length).toBe(20);
    const after = await calls(client, 'scan', 'unlink');
    expect(after.scan! - before.scan!).toBeGreaterThanOrEqual(Math.ceil(275 / 40)); // pages
    expect(after.unlink).toBeGreaterThan(before.unlink!);
  });

  it('clear() without a namespace spares namespaced keys; noNamespaceAffectsAll flushes all', async () => {
    const client = await raw();
    await client.flushAll();
    await client.mSet({ a: '1', b: '2', 'ns::c': '3' });
    await store().clear();
    expect(await client.keys('*')).toEqual(['ns::c']);
    await client.set('a', '1');
    await store({ noNamespaceAffectsAll: true }).clear();
    expect(await client.dbSize()).toBe(0);
  });

  it('iterator(namespace) pages through SCAN and yields each key of its namespace once', async () => {
    const client = await raw();
    await client.flushAll();
    const expected = new Map<string, string>();
    const keys: Record<string, string> = { 'elsewhere::k1': 'no', k2: 'no' };
    for (let i = 0; i < 150; i++) {
      expected.set(`k${i}`, `v${i}`);
      keys[`it::k${i}`] = `v${i}`;
    }
    await client.mSet(keys);
    const adapter = store({ namespace: 'it' });
    const seen = new Map<string, unknown>();
    for await (const [key, value] of adapter.iterator('it')) {
      expect(seen.has(key)).toBe(false);
      seen.set(key, value);
    }
    expect(seen).toEqual(expected);
  });

  it('a ttl in milliseconds becomes a PX expiry that kvd itself enforces', async () => {
    const client = await raw();
    const adapter = store({ namespace: 'ttl' });
    await adapter.set('short', 'v', 150);
    await adapter.set('long', 'v', 60_000);
    const pttl = await client.pTTL('ttl::short');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(150);
    await pollUntil(
      'kvd expired ttl::short',
      async () => (await client.exists('ttl::short')) === 0,
      5_000,
    );
    expect(await adapter.get('short')).toBeUndefined();
    expect(await adapter.has('short')).toBe(false);
    expect(await adapter.get('long')).toBe('v');
  });

  it('Keyv over the adapter round-trips values and expires them', async () => {
    const client = await raw();
    const keyv = new Keyv<{ n: number; s: string }>({ store: store(), namespace: 'app' });
    expect(await keyv.set('obj', { n: 1, s: 'é' })).toBe(true);
    expect(await keyv.set('brief', { n: 2, s: 'x' }, 150)).toBe(true);
    expect(await keyv.get('obj')).toEqual({ n: 1, s: 'é' });
    const stored = await client.keys('app::*');
    expect(stored.sort()).toEqual(['app::app:brief', 'app::app:obj']);
    expect(await client.pTTL('app::app:brief')).toBeGreaterThan(0);
    await pollUntil(
      'kvd expired the brief value',
      async () => (await client.exists('app::app:brief')) === 0,
      5_000,
    );
    expect(await keyv.get('brief')).toBeUndefined();
    expect(await keyv.get(['obj', 'brief'])).toEqual([{ n: 1, s: 'é' }, undefined]);
  });
});
