// Tests transactions through client libraries, and what the queued commands do inside EXEC:
// random scripts of string, bit and keyspace commands (every SET option, counters, APPEND,
// GETDEL, the EXPIRE family, PERSIST, TTL, MGET, MSET, DEL, EXISTS, TYPE, then SETNX, GETEX,
// SETRANGE, INCRBYFLOAT, MSETNX, RENAME, COPY, SETBIT, BITOP, BITFIELD, …) give the same replies
// and leave the same keys whether run one by one or as one MULTI/EXEC (fast-check); then
// ioredis's and node-redis's multi().exec() in RESP2 and RESP3, runtime errors and EXECABORT.

import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { createClient, MultiErrorReply } from 'redis';
import { describe, expect, it } from 'vitest';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const ioredis = (): Redis => shared.connect();

/** A command over the keys k0..k2, written with the key prefix it will run under. */
type Command = (prefix: string) => string[];

const FAR = 4_000_000_000_000; // ms since the epoch, year 2096
const key = fc.constantFrom('k0', 'k1', 'k2');
const value = fc.constantFrom('1', '7', '-3', 'abc', '', '9223372036854775807');
const setOptions = fc.tuple(
  fc.constantFrom([], ['NX'], ['XX']),
  fc.constantFrom([], ['GET']),
  fc.constantFrom([], ['EX', '100'], ['PX', '100000'], ['PXAT', String(FAR)], ['KEEPTTL']),
);
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.tuple(key, value, setOptions).map(([k, v, [c, g, e]]) => (p: string) => [
    'SET',
    p + k,
    v,
    ...c,
    ...g,
    ...e,
  ]),
  fc
    .tuple(
      fc.constantFrom('GET', 'INCR', 'DECR', 'STRLEN', 'GETDEL', 'TYPE', 'PERSIST', 'TTL'),
      key,
    )
    .map(([name, k]) => (p: string) => [name, p + k]),
  fc
    .tuple(fc.constantFrom('INCRBY', 'DECRBY'), key, fc.constantFrom('5', '-9', 'x'))
    .map(([name, k, n]) => (p: string) => [name, p + k, n]),
  fc.tuple(key, value).map(([k, v]) => (p: string) => ['APPEND', p + k, v]),
  fc
    .tuple(
      fc.constantFrom('EXPIRE', 'PEXPIRE'),
      key,
      fc.constantFrom('100', '200000', '-1'),
      fc.constantFrom([], ['NX'], ['XX'], ['GT'], ['LT']),
    )
    .map(([name, k, t, c]) => (p: string) => [name, p + k, t, ...c]),
  key.map((k) => (p: string) => ['PEXPIREAT', p + k, String(FAR)]),
  fc
    .tuple(fc.constantFrom('DEL', 'EXISTS', 'MGET'), key, key)
    .map(([name, a, b]) => (p: string) => [name, p + a, p + b, p + a]),
  fc.tuple(key, value, key, value).map(([a, x, b, y]) => (p: string) => [
    'MSET',
    p + a,
    x,
    p + b,
    y,
  ]),
);

/** The newer string, bit and keyspace commands, over the same keys. */
const newerCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.tuple(fc.constantFrom('SETNX', 'GETSET'), key, value).map(([name, k, v]) => (p: string) => [
    name,
    p + k,
    v,
  ]),
  fc
    .tuple(fc.constantFrom(['SETEX', '100'], ['PSETEX', '100000']), key, value)
    .map(([[name, t], k, v]) => (p: string) => [name!, p + k, t!, v]),
  fc
    .tuple(key, fc.constantFrom([], ['EX', '100'], ['PERSIST'], ['PXAT', String(FAR)]))
    .map(([k, o]) => (p: string) => ['GETEX', p + k, ...o]),
  fc.tuple(key, fc.constantFrom('0', '3', '-1'), value).map(([k, o, v]) => (p: string) => [
    'SETRANGE',
    p + k,
    o,
    v,
  ]),
  fc
    .tuple(fc.constantFrom('GETRANGE', 'SUBSTR'), key, fc.constantFrom(['0', '-1'], ['1', '3']))
    .map(([name, k, range]) => (p: string) => [name, p + k, ...range]),
  fc.tuple(key, fc.constantFrom('1.5', '-2', 'x', '1e3')).map(([k, d]) => (p: string) => [
    'INCRBYFLOAT',
    p + k,
    d,
  ]),
  fc.tuple(key, value, key, value).map(([a, x, b, y]) => (p: string) => [
    'MSETNX',
    p + a,
    x,
    p + b,
    y,
  ]),
  fc
    .tuple(fc.constantFrom('UNLINK', 'TOUCH', 'RENAME', 'RENAMENX', 'COPY', 'LCS'), key, key)
    .map(([name, a, b]) => (p: string) => [name, p + a, p + b]),
  fc.tuple(key, key).map(([a, b]) => (p: string) => ['COPY', p + a, p + b, 'REPLACE']),
  fc
    .tuple(fc.constantFrom('SETBIT', 'GETBIT'), key, fc.constantFrom('0', '7', '13'))
    .map(([name, k, o]) => (p: string) => [name, p + k, o, ...(name === 'SETBIT' ? ['1'] : [])]),
  fc
    .tuple(fc.constantFrom('BITCOUNT', 'EXPIRETIME', 'PEXPIRETIME'), key)
    .map(([name, k]) => (p: string) => [name, p + k]),
  fc.tuple(key, fc.constantFrom('0', '1')).map(([k, b]) => (p: string) => ['BITPOS', p + k, b]),
  fc
    .tuple(fc.constantFrom('AND', 'OR', 'XOR'), key, key, key)
    .map(([op, d, a, b]) => (p: string) => ['BITOP', op, p + d, p + a, p + b]),
  key.map((k) => (p: string) => ['OBJECT', 'ENCODING', p + k]),
  key.map((k) => (p: string) => ['BITFIELD', p + k, 'INCRBY', 'u8', '0', '5', 'GET', 'u4', '4']),
);

/** Replies that tell the time left or the expiry itself (they move between two runs). */
const TIMES = new Set(['TTL', 'EXPIRETIME', 'PEXPIRETIME']);

/** A reply made comparable: errors by message, the times of keys that expire as 'time'. */
function normalize(name: string, reply: unknown): unknown {
  if (reply instanceof Error) return `error: ${reply.message}`;
  if (TIMES.has(name) && typeof reply === 'number' && reply >= 0) return 'time';
  return reply;
}

async function finalState(redis: Redis, prefix: string): Promise<unknown[]> {
  const state: unknown[] = [];
  for (const k of ['k0', 'k1', 'k2']) {
    const ttl = await redis.ttl(prefix + k);
    state.push(await redis.get(prefix + k), ttl >= 0 ? 'ttl' : ttl);
  }
  return state;
}

/**
 * Runs random scripts of `commands` one by one on `plain<n>:` keys and as one MULTI/EXEC on
 * `tx<n>:` keys, and expects the same replies and the same keys afterwards.
 */
async function expectSameInsideMulti(commands: fc.Arbitrary<Command>, seed: number): Promise<void> {
  const redis = ioredis();
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(commands, { minLength: 1, maxLength: 15 }), async (script) => {
      run++;
      const plainPrefix = `plain${seed}.${run}:`;
      const txPrefix = `tx${seed}.${run}:`;
      const plain: unknown[] = [];
      for (const make of script) {
        const [name, ...args] = make(plainPrefix);
        plain.push(normalize(name!, await redis.call(name!, ...args).catch((e: unknown) => e)));
      }
      const results = await redis.multi(script.map((make) => ['call', ...make(txPrefix)])).exec();
      const inTransaction = results!.map(([err, reply], i) =>
        normalize(script[i]!(txPrefix)[0]!, err ?? reply),
      );
      expect(inTransaction).toEqual(plain);
      expect(await finalState(redis, txPrefix)).toEqual(await finalState(redis, plainPrefix));
    }),
    { numRuns: 60, seed },
  );
}

describe('queued commands inside EXEC', () => {
  it('answer and write exactly as the same commands run one by one', async () => {
    await expectSameInsideMulti(command, 11);
  });

  it('and so do the newer string, bit and keyspace commands', async () => {
    await expectSameInsideMulti(fc.oneof(command, newerCommand), 12);
  });
});

describe('ioredis', () => {
  it('multi().exec() gives [error, reply] pairs; a queueing error rejects with EXECABORT', async () => {
    const redis = ioredis();
    await redis.set('io:text', 'abc');
    const results = await redis
      .multi()
      .set('io:n', '10')
      .incr('io:text')
      .incrby('io:n', 5)
      .get('io:n')
      .exec();
    expect(results![0]).toEqual([null, 'OK']);
    expect((results![1]![0] as Error).message).toBe('ERR value is not an integer or out of range');
    expect(results!.slice(2)).toEqual([
      [null, 15],
      [null, '15'],
    ]);
    await expect(redis.multi().set('io:never', '1').call('NOSUCH').exec()).rejects.toThrow(
      /EXECABORT Transaction discarded because of previous errors/,
    );
    expect(await redis.exists('io:never')).toBe(0);
    // The connection is usable afterwards, outside any transaction.
    expect(await redis.get('io:n')).toBe('15');
  });
});

describe('node-redis', () => {
  it('multi().exec() in RESP2 and RESP3, with MultiErrorReply for a runtime error', async () => {
    for (const RESP of [2, 3] as const) {
      const client = createClient({ url: `redis://127.0.0.1:${shared.server.port}`, RESP });
      await client.connect();
      shared.afterTest(() => client.destroy());
      const p = `nr${RESP}:`;
      expect(
        await client
          .multi()
          .set(`${p}a`, '1')
          .incr(`${p}a`)
          .get(`${p}a`)
          .mGet([`${p}a`, `${p}none`])
          .expire(`${p}a`, 100)
          .ttl(`${p}a`)
          .exec(),
      ).toEqual(['OK', 2, '2', ['2', null], 1, 100]);
      await client.set(`${p}text`, 'abc');
      const failing = client.multi().incr(`${p}text`).set(`${p}b`, 'yes').exec();
      const failure = await failing.catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(MultiErrorReply);
      expect((failure as MultiErrorReply).errorIndexes).toEqual([0]);
      expect((failure as MultiErrorReply).replies[1]).toBe('OK');
      expect(await client.get(`${p}b`)).toBe('yes');
    }
  });
});
