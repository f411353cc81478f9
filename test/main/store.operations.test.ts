// The Store's read-modify-write operations (incrBy, append, setWith, getDelete, expire,
// persist, expirySync) checked against a Map model with random sequences issued in one tick
// (so operations and plain writes share one writer message and must apply in order), across
// rotation, reopen and forced hash collisions; and the atomicity of concurrent increments.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KvError, Store } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const KEYS = ['n', 'm', 's', 'é', ''];
const FAR = 4_000_000_000_000; // an expiry far in the future (ms since the epoch)

interface Entry {
  value: Buffer;
  expiresAt: number;
}

type Cmd =
  | { t: 'set'; k: number; v: string }
  | { t: 'delete'; k: number }
  | { t: 'incrBy'; k: number; d: number }
  | { t: 'append'; k: number; v: string }
  | {
      t: 'setWith';
      k: number;
      v: string;
      nx: boolean;
      xx: boolean;
      get: boolean;
      keep: boolean;
      ttl: boolean;
    }
  | { t: 'getDelete'; k: number }
  | { t: 'expire'; k: number }
  | { t: 'persist'; k: number };

const k = fc.nat(KEYS.length - 1);
const small = fc.oneof(
  fc.constantFrom('0', '7', '-3', '12345678901', 'x'),
  fc.string({ maxLength: 6 }),
);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ t: fc.constant('set' as const), k, v: small }),
  fc.record({ t: fc.constant('delete' as const), k }),
  fc.record({ t: fc.constant('incrBy' as const), k, d: fc.integer({ min: -1000, max: 1000 }) }),
  fc.record({ t: fc.constant('append' as const), k, v: fc.string({ maxLength: 5 }) }),
  fc.record({
    t: fc.constant('setWith' as const),
    k,
    v: small,
    nx: fc.boolean(),
    xx: fc.boolean(),
    get: fc.boolean(),
    keep: fc.boolean(),
    ttl: fc.boolean(),
  }),
  fc.record({ t: fc.constant('getDelete' as const), k }),
  fc.record({ t: fc.constant('expire' as const), k }),
  fc.record({ t: fc.constant('persist' as const), k }),
);

/** What the model says a command answers, applying it to `model`. */
function apply(model: Map<string, Entry>, c: Cmd): unknown {
  const key = KEYS[c.k]!;
  const cur = model.get(key);
  switch (c.t) {
    case 'set':
      model.set(key, { value: Buffer.from(c.v), expiresAt: 0 });
      return undefined;
    case 'delete':
      return model.delete(key);
    case 'incrBy': {
      const text = cur?.value.toString('latin1') ?? '0';
      if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return 'KV_NOT_INTEGER';
      const next = BigInt(text) + BigInt(c.d);
      if (next >= 2n ** 63n || next < -(2n ** 63n)) return 'KV_NOT_INTEGER';
      model.set(key, { value: Buffer.from(next.toString()), expiresAt: cur?.expiresAt ?? 0 });
      return next;
    }
    case 'append': {
      const value = Buffer.concat([cur?.value ?? Buffer.alloc(0), Buffer.from(c.v)]);
      model.set(key, { value, expiresAt: cur?.expiresAt ?? 0 });
      return value.length;
    }
    case 'setWith': {
      const blocked = (c.nx && cur) || (c.xx && !cur);
      const previous = c.get ? cur?.value.toString() : undefined;
      if (!blocked) {
        const expiresAt = c.keep ? (cur?.expiresAt ?? 0) : c.ttl ? FAR : 0;
        model.set(key, { value: Buffer.from(c.v), expiresAt });
      }
      return { written: !blocked, previous };
    }
    case 'getDelete':
      model.delete(key);
      return cur?.value.toString();
    case 'expire':
      if (cur) cur.expiresAt = FAR + 1;
      return cur !== undefined;
    case 'persist': {
      const had = cur !== undefined && cur.expiresAt !== 0;
      if (cur) cur.expiresAt = 0;
      return had;
    }
  }
}

/** Issues a command on the store; answers in the model's terms (error codes as strings). */
function issue(db: Store, c: Cmd): Promise<unknown> {
  const key = KEYS[c.k]!;
  const run = (): Promise<unknown> => {
    switch (c.t) {
      case 'set':
        return db.set(key, c.v);
      case 'delete':
        return db.delete(key);
      case 'incrBy':
        return db.incrBy(key, c.d);
      case 'append':
        return db.append(key, c.v);
      case 'setWith':
        return db
          .setWith(key, c.v, {
            ifAbsent: c.nx,
            ifPresent: c.xx,
            returnPrevious: c.get,
            keepExpiry: c.keep,
            expiresAt: c.ttl ? FAR : 0,
          })
          .then((r) => ({ written: r.written, previous: r.previous?.toString() }));
      case 'getDelete':
        return db.getDelete(key).then((v) => v?.toString());
      case 'expire':
        return db.expire(key, FAR + 1);
      case 'persist':
        return db.persist(key);
    }
  };
  return run().catch((error: unknown) => (error instanceof KvError ? error.code : error));
}

describe('read-modify-write operations', () => {
  it('agree with a Map model, in order with plain writes of the same tick, across reopen', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cmd, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(32, 2),
        async (ticks, hashBits) => {
          const dir = await makeTempDir('ops-model');
          let db = await Store.open(dir, { segmentBytes: 4096, hashBits });
          const model = new Map<string, Entry>();
          try {
            for (const tick of ticks) {
              // Everything of one tick is issued before awaiting: one writer message.
              const answers = await Promise.all(tick.map((c) => issue(db, c)));
              tick.forEach((c, i) => {
                expect(answers[i], JSON.stringify(c)).toEqual(apply(model, c));
              });
              for (const key of KEYS) {
                const want = model.get(key);
                expect(db.getSync(key)?.toString(), key).toBe(want?.value.toString());
                expect(db.expirySync(key), key).toBe(want?.expiresAt);
              }
              await db.close();
              db = await Store.open(dir, { segmentBytes: 4096, hashBits });
            }
          } finally {
            await db.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('increments atomically under many concurrent callers', async () => {
    const dir = await makeTempDir('ops-incr');
    const db = await Store.open(dir);
    try {
      const rounds = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const seen: bigint[] = [];
          for (let i = 0; i < 50; i++) seen.push(await db.incrBy('counter'));
          return seen;
        }),
      );
      const all = rounds.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      // Every increment saw a distinct value: 1..1000, none lost, none repeated.
      expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => BigInt(i + 1)));
      expect(db.getSync('counter')?.toString()).toBe('1000');
    } finally {
      await db.close();
    }
  });

  it('treats an expired value as absent, and an expiry in the past deletes the key', async () => {
    const dir = await makeTempDir('ops-expired');
    const db = await Store.open(dir);
    try {
      await db.set('old', '5', { expiresAt: Date.now() - 1 });
      expect(await db.incrBy('old', 2)).toBe(2n);
      expect(db.expirySync('old')).toBe(0);
      expect((await db.setWith('gone', 'v', { ifPresent: true })).written).toBe(false);
      await db.set('k', 'v');
      expect(await db.expire('k', Date.now() - 1000)).toBe(true);
      expect(db.getSync('k')).toBeUndefined();
      expect(await db.has('k')).toBe(false);
    } finally {
      await db.close();
    }
  });

  it('clears every key atomically, in order with the writes around it, across reopen', async () => {
    const dir = await makeTempDir('ops-clear');
    let db = await Store.open(dir, { segmentBytes: 4096 });
    try {
      await Promise.all(Array.from({ length: 3000 }, (_, i) => db.set(`k${i}`, `v${i}`)));
      await db.set('expired', 'x', { expiresAt: Date.now() - 1 });
      void db.set('before', '1');
      const cleared = db.clear();
      void db.set('after', '2');
      expect(await cleared).toBe(3002);
      expect((await db.keys()).map(String)).toEqual(['after']);
      expect((await db.stats()).keys).toBe(1);
      expect(await db.clear()).toBe(1);
      expect(await db.clear()).toBe(0);
      await db.set('again', '3');
      await db.close();
      db = await Store.open(dir, { segmentBytes: 4096 });
      expect((await db.keys()).map(String)).toEqual(['again']);
      expect(db.getSync('k1')).toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const dir = await makeTempDir('ops-errors');
    const db = await Store.open(dir, { maxValueBytes: 20, maxKeyBytes: 4 });
    try {
      await db.set('s', 'abcdefghijklmnopqr');
      await expect(db.append('s', 'xyz')).rejects.toMatchObject({ code: 'KV_VALUE_TOO_LARGE' });
      expect(db.getSync('s')?.toString()).toBe('abcdefghijklmnopqr');
      await expect(db.incrBy('s')).rejects.toMatchObject({ code: 'KV_NOT_INTEGER' });
      await db.set('big', '9223372036854775807');
      await expect(db.incrBy('big')).rejects.toMatchObject({ code: 'KV_NOT_INTEGER' });
      expect(db.getSync('big')?.toString()).toBe('9223372036854775807');
      expect(await db.incrBy('big', -1n)).toBe(9223372036854775806n);
      await expect(db.incrBy('n', 1.5)).rejects.toMatchObject({ code: 'KV_INVALID_ARGUMENT' });
      await expect(db.incrBy('toolong')).rejects.toMatchObject({ code: 'KV_KEY_TOO_LARGE' });
      await expect(db.expire('s', -5)).rejects.toMatchObject({ code: 'KV_INVALID_ARGUMENT' });
      await expect(db.expire('s', FAR, ['NX', 'GT'])).rejects.toMatchObject({
        code: 'KV_INVALID_ARGUMENT',
      });
      await expect(db.expire('s', FAR, ['GT', 'LT'])).rejects.toMatchObject({
        code: 'KV_INVALID_ARGUMENT',
      });
      expect(await db.expire('s', FAR, 'XX')).toBe(false);
      expect(await db.expire('s', FAR, 'NX')).toBe(true);
      expect(await db.expire('s', FAR - 1, ['XX', 'LT'])).toBe(true);
      expect(db.expirySync('s')).toBe(FAR - 1);
      await expect(db.setWith('s', '123456789012345678901')).rejects.toMatchObject({
        code: 'KV_VALUE_TOO_LARGE',
      });
    } finally {
      await db.close();
    }
    await expect(db.incrBy('n')).rejects.toMatchObject({ code: 'KV_CLOSED' });
    expect(() => db.expirySync('n')).toThrow(KvError);
  });
});
