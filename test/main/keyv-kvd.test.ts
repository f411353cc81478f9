// KeyvKvd (`kvd/keyv`): Keyv's official suite (@keyv/test-suite: API, values, namespaces,
// iterator) on an in-process Store; then namespaces as prefixes (clear in batches, the keys
// outside every namespace), TTLs as kvd's own expiry with Keyv's bytes stored as given, the
// iterator's slices, the directory form's lazy open and disconnect, and errors with kvd's codes.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { Keyv } from 'keyv';
import * as vitest from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KvError, Store } from '../../dist/main/index.js';
import { createKeyv, enableIterator, KeyvKvd } from '../../dist/main/keyv/index.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

let shared: Store;
const opened: Store[] = [];
const adapters: KeyvKvd[] = [];

/** A store of its own in a fresh temp dir, closed after the test. */
async function freshStore(): Promise<Store> {
  const store = await Store.open(await makeTempDir('keyv'), { readers: 1 });
  opened.push(store);
  return store;
}

/** An adapter, disconnected after the test. */
function adapter(...args: ConstructorParameters<typeof KeyvKvd>): KeyvKvd {
  const made = new KeyvKvd(...args);
  adapters.push(made);
  return made;
}

/** Keyv with its iterator enabled (Keyv 5.6 builds one only for the dialects it lists). */
class KeyvOnKvd extends Keyv {
  constructor(...args: ConstructorParameters<typeof Keyv>) {
    super(...args);
    enableIterator(this);
  }
}

/** The rejection's kvd error code. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(KvError);
  return (error as KvError).code;
}

const text = (keys: Buffer[]) => keys.map((key) => key.toString());

beforeAll(async () => {
  shared = await Store.open(await makeTempDir('keyv-suite'), { readers: 1 });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(adapters.splice(0).map((a) => a.disconnect()));
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  await shared.close();
  await removeTempDirs();
});

describe('@keyv/test-suite: keyvTestSuite (api, values, namespaces)', () => {
  keyvTestSuite(vitest, Keyv, () => new KeyvKvd(shared));
});

describe('@keyv/test-suite: keyvIteratorTests', () => {
  keyvIteratorTests(vitest, KeyvOnKvd, () => new KeyvKvd(shared));
});

describe('namespaces', () => {
  it("clear() deletes its namespace's prefix in batches, leaving other namespaces and plain keys", async () => {
    const store = await freshStore();
    const a = new Keyv({ store: adapter(store, { clearBatchSize: 3 }), namespace: 'a' });
    const ab = new Keyv({ store: adapter(store), namespace: 'ab' });
    for (let i = 0; i < 10; i++) await a.set(`k${i}`, i);
    await ab.set('k0', 'ab');
    await store.set('plain', 'x');
    await store.set('other:a:k1', 'x');
    const batches = vi.spyOn(store, 'batch');
    await a.clear();
    expect(batches).toHaveBeenCalledTimes(4); // 3 + 3 + 3 + 1
    const deleted = batches.mock.calls.flatMap(([ops]) => ops.map((op) => String(op.key)));
    expect(deleted.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `a:k${i}`).sort());
    expect(text(await store.keys())).toEqual(['ab:k0', 'other:a:k1', 'plain']);
    expect(await a.get('k1')).toBeUndefined();
    expect(await ab.get('k0')).toBe('ab');
  });

  it('with no namespace, clear() and iterator() take the keys with no ":"; noNamespaceAffectsAll takes all', async () => {
    const store = await freshStore();
    for (const key of ['p1', 'p2', 'ns:k', 'x:y']) await store.set(key, `v-${key}`);
    const plain = adapter(store);
    expect(plain.namespace).toBeUndefined();
    const seen: string[][] = [];
    for await (const entry of plain.iterator()) seen.push(entry);
    expect(seen).toEqual([
      ['p1', 'v-p1'],
      ['p2', 'v-p2'],
    ]);
    await new Keyv({ store: plain, namespace: undefined }).clear();
    expect(text(await store.keys())).toEqual(['ns:k', 'x:y']);
    const all = adapter(store, { noNamespaceAffectsAll: true });
    const keys: string[] = [];
    for await (const [key] of all.iterator()) keys.push(key);
    expect(keys).toEqual(['ns:k', 'x:y']);
    const clears = vi.spyOn(store, 'clear');
    await all.clear();
    expect(clears).toHaveBeenCalledOnce();
    expect(await store.keys()).toEqual([]);
  });

  it('iterator(namespace) walks slices of 512 in key order, each key once, whole keys', async () => {
    const store = await freshStore();
    const ops = Array.from({ length: 1200 }, (_, i) => ({
      type: 'set' as const,
      key: `it:${String(i).padStart(4, '0')}`,
      value: `v${i}`,
    }));
    await store.batch([
      ...ops,
      { type: 'set', key: 'iu:0', value: 'x' },
      { type: 'set', key: 'z', value: 'x' },
    ]);
    const ranges = vi.spyOn(store, 'rangeSync');
    const seen: [string, string][] = [];
    for await (const entry of adapter(store).iterator('it')) seen.push(entry);
    expect(seen).toEqual(ops.map((op) => [op.key, op.value]));
    expect(ranges).toHaveBeenCalledTimes(3);
  });

  it('a plain Keyv has no iterator (Keyv 5.6 lists its dialects); createKeyv and enableIterator give one', async () => {
    const store = await freshStore();
    expect(new Keyv({ store: adapter(store) }).iterator).toBeUndefined();
    const keyv = createKeyv<number>(store, {}, { namespace: 'n' });
    adapters.push(keyv.store as KeyvKvd);
    await keyv.set('one', 1);
    await keyv.set('two', 2);
    await new Keyv({ store: adapter(store), namespace: 'm' }).set('one', 'other');
    const seen: unknown[] = [];
    for await (const entry of keyv.iterator!(undefined)) seen.push(entry);
    expect(seen).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
    expect(() => enableIterator(new Keyv())).toThrow(
      expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' }),
    );
  });
});

describe('TTL is kvd expiry; values are stored as Keyv hands them in', () => {
  it("a ttl is the key's kvd expiry, and the bytes stored are exactly Keyv's serialized value", async () => {
    const store = await freshStore();
    const kvd = adapter(store);
    const keyv = new Keyv({ store: kvd, namespace: 'ttl' });
    const handed = vi.spyOn(kvd, 'set');
    const before = Date.now();
    await keyv.set('k', { n: 1, s: 'é' }, 60_000);
    const after = Date.now();
    const expiresAt = store.expirySync('ttl:k')!;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 60_000);
    const serialized = handed.mock.calls[0]![1];
    expect(typeof serialized).toBe('string');
    expect(store.getSync('ttl:k')).toEqual(Buffer.from(serialized as string, 'utf8'));

    await keyv.set('forever', [1, 'two']);
    expect(store.expirySync('ttl:forever')).toBe(0);
    const exact = await keyv.serialize!({ value: [1, 'two'], expires: undefined });
    expect(store.getSync('ttl:forever')!.toString('utf8')).toBe(exact);
    expect(await keyv.get('forever')).toEqual([1, 'two']);
  });

  it('kvd itself expires a short ttl: the raw store stops holding the key', async () => {
    const store = await freshStore();
    const kvd = adapter(store);
    await kvd.set('brief', 'v', 1_000);
    await kvd.set('kept', 'v');
    expect(store.getSync('brief')?.toString()).toBe('v');
    expect(store.expirySync('brief')).toBeGreaterThan(Date.now());
    await pollUntil('kvd expired brief', () => store.getSync('brief') === undefined, 5_000);
    expect(await kvd.has('brief')).toBe(false);
    expect(await kvd.get('brief')).toBeUndefined();
    expect(await kvd.get('kept')).toBe('v');
  });

  it('setMany writes one atomic batch, each entry with its own expiry; odd ttls', async () => {
    const store = await freshStore();
    const kvd = adapter(store);
    const batches = vi.spyOn(store, 'batch');
    const before = Date.now();
    await kvd.setMany([
      { key: 'm1', value: 'a', ttl: 60_000 },
      { key: 'm2', value: Buffer.from([0xe2, 0x82, 0xac]) },
    ]);
    expect(batches).toHaveBeenCalledOnce();
    expect(store.expirySync('m1')).toBeGreaterThanOrEqual(before + 60_000);
    expect(store.expirySync('m2')).toBe(0);
    expect(await kvd.getMany(['m2', 'nope', 'm1'])).toEqual(['€', undefined, 'a']);
    await kvd.set('neg', 'v', -5);
    expect(store.getSync('neg')).toBeUndefined();
    await kvd.set('inf', 'v', Number.POSITIVE_INFINITY);
    expect(store.expirySync('inf')).toBe(0);
    await kvd.set('frac', 'v', 1_000.5);
    expect(Number.isInteger(store.expirySync('frac'))).toBe(true);
  });

  it('getMany, hasMany, deleteMany answer per key', async () => {
    const kvd = adapter(await freshStore());
    await kvd.setMany([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    expect(await kvd.getMany([])).toEqual([]);
    expect(await kvd.hasMany(['a', 'x', 'b'])).toEqual([true, false, true]);
    expect(await kvd.deleteMany(['a', 'x'])).toBe(true);
    expect(await kvd.deleteMany(['a', 'x'])).toBe(false);
    expect(await kvd.hasMany(['a', 'b'])).toEqual([false, true]);
  });
});

describe('a directory: opened on first use, closed by disconnect', () => {
  it('opens once for concurrent first calls, holds the directory, and disconnect frees it', async () => {
    const dir = await makeTempDir('keyv-dir');
    const kvd = adapter(dir, { store: { readers: 1 } });
    expect(kvd.opts.url).toBe(`kvd://${dir}`);
    const opens = vi.spyOn(Store, 'open');
    await Promise.all([kvd.set('a', '1'), kvd.set('b', '2'), kvd.get('a')]);
    expect(opens).toHaveBeenCalledOnce();
    expect(opens).toHaveBeenCalledWith(dir, { readers: 1 });
    expect(await codeOf(Store.open(dir, { readers: 1 }))).toBe('KV_LOCKED');
    await kvd.disconnect();
    expect(await codeOf(kvd.get('a'))).toBe('KV_CLOSED');
    const reopened = await Store.open(dir, { readers: 1 });
    opened.push(reopened);
    expect(reopened.getSync('b')?.toString()).toBe('2');
  });

  it('disconnect during the first open closes the store that open yields', async () => {
    const dir = await makeTempDir('keyv-race');
    const kvd = adapter(dir, { store: { readers: 1 } });
    const first = kvd.set('a', '1').catch((error: unknown) => error);
    await kvd.disconnect();
    await first;
    const reopened = await Store.open(dir, { readers: 1 });
    opened.push(reopened);
    expect(await codeOf(kvd.has('a'))).toBe('KV_CLOSED');
  });

  it('a failed open is retried by the next call; store options pass through', async () => {
    const dir = await makeTempDir('keyv-retry');
    const holder = await Store.open(dir, { readers: 1 });
    const kvd = adapter(dir, { store: { readers: 1 } });
    expect(await codeOf(kvd.set('a', '1'))).toBe('KV_LOCKED');
    await holder.close();
    await kvd.set('a', '1');
    expect(await kvd.get('a')).toBe('1');
    const bad = adapter(await makeTempDir('keyv-opt'), { store: { nope: 1 } as never });
    expect(await codeOf(bad.get('a'))).toBe('KV_INVALID_ARGUMENT');
  });

  it("a Store passed in stays open after disconnect unless closeStore; the adapter's calls end", async () => {
    const store = await freshStore();
    const kept = adapter(store);
    await kept.disconnect();
    expect(store.isClosed).toBe(false);
    expect(await codeOf(kept.set('a', '1'))).toBe('KV_CLOSED');
    await adapter(store, { closeStore: true }).disconnect();
    expect(store.isClosed).toBe(true);
  });

  it('resolves as kvd/keyv through the package exports', async () => {
    const dir = await makeTempDir('keyv-subpath');
    const script = `
      import { createKeyv } from 'kvd/keyv';
      const keyv = createKeyv(process.argv[1], { store: { readers: 1 } }, { namespace: 'app' });
      await keyv.set('greeting', { hello: 'world' });
      for await (const [key, value] of keyv.iterator()) console.log(key, value.hello);
      await keyv.disconnect();`;
    const output = execFileSync(
      process.execPath,
      ['--input-type=module', '--eval', script, join(dir, 'db')],
      { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' },
    );
    expect(output.trim()).toBe('greeting world');
  });
});

describe('errors', () => {
  it("a closed store rejects every call with KV_CLOSED; Keyv's get emits it once", async () => {
    const store = await freshStore();
    const kvd = adapter(store);
    await store.close();
    const calls: Promise<unknown>[] = [
      kvd.get('k'),
      kvd.getMany(['k']),
      kvd.set('k', 'v'),
      kvd.setMany([{ key: 'k', value: 'v' }]),
      kvd.delete('k'),
      kvd.deleteMany(['k']),
      kvd.has('k'),
      kvd.hasMany(['k']),
      kvd.clear(),
      kvd.iterator('ns').next(),
    ];
    for (const call of calls) expect(await codeOf(call)).toBe('KV_CLOSED');

    const keyv = new Keyv({ store: kvd });
    const events: unknown[] = [];
    keyv.on('error', (error: unknown) => events.push(error));
    expect(await keyv.get('k')).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ code: 'KV_CLOSED' })]);
    expect(await keyv.set('k', 'v')).toBe(false);
    expect(events).toHaveLength(2);
    keyv.throwOnErrors = true;
    expect(await codeOf(keyv.get('k'))).toBe('KV_CLOSED');
  });

  it("kvd's limits arrive as their codes", async () => {
    const kvd = adapter(await freshStore());
    expect(await codeOf(kvd.set('k'.repeat(70_000), 'v'))).toBe('KV_KEY_TOO_LARGE');
    expect(await codeOf(kvd.set('k', { not: 'bytes' } as never))).toBe('KV_INVALID_ARGUMENT');
  });

  it('refuses a bad store, directory or option with KV_INVALID_ARGUMENT', async () => {
    const store = await freshStore();
    const refused = [
      () => new KeyvKvd(42 as never),
      () => new KeyvKvd(''),
      () => new KeyvKvd(store, { store: { readers: 1 } }),
      () => new KeyvKvd('/tmp/x', { closeStore: false }),
      () => new KeyvKvd(store, { clearBatchSize: 0 }),
      () => new KeyvKvd(store, { bogus: true } as never),
    ];
    for (const make of refused) {
      expect(make).toThrow(expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' }));
    }
  });
});
