// Tests the daemon's string commands beyond GET/SET with real clients (ioredis, node-redis,
// redis-cli): SETNX, SETEX, PSETEX, GETSET, GETEX, MSETNX (all or nothing, also under concurrent
// clients), SETRANGE (limits, kept expiry, concurrent writers), GETRANGE and SUBSTR, with
// Redis 7.2's replies and error texts. LCS and INCRBYFLOAT: shared.server.strings-lcs-float.test.ts.

import type { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { redisCli, startTestServer } from '../fixtures/kvd-server.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const connect = (port?: number): Redis => shared.connect(port === undefined ? {} : { port });

const FAR_MS = 4_000_000_000_000; // year 2096

describe('SETNX, SETEX, PSETEX and GETSET', () => {
  it('SETNX sets only an absent key', async () => {
    const redis = connect();
    expect(await redis.setnx('nx', 'first')).toBe(1);
    expect(await redis.setnx('nx', 'second')).toBe(0);
    expect(await redis.get('nx')).toBe('first');
    await expect(redis.call('SETNX', 'nx')).rejects.toThrow(
      "ERR wrong number of arguments for 'setnx' command",
    );
  });

  it('SETEX and PSETEX set a value with an expiry, refusing a bad time', async () => {
    const redis = connect();
    await redis.set('ex', 'old', 'PX', 1);
    expect(await redis.setex('ex', 100, 'v')).toBe('OK');
    expect(await redis.get('ex')).toBe('v');
    expect(await redis.ttl('ex')).toBeGreaterThan(98);
    expect(await redis.psetex('pex', 50_000, 'w')).toBe('OK');
    const pttl = await redis.pttl('pex');
    expect(pttl).toBeGreaterThan(49_000);
    expect(pttl).toBeLessThanOrEqual(50_000);
    for (const [name, time] of [
      ['SETEX', '0'],
      ['SETEX', '-5'],
      ['PSETEX', '0'],
      ['SETEX', '9223372036854775807'],
    ] as const) {
      await expect(redis.call(name, 'bad', time, 'v')).rejects.toThrow(
        `ERR invalid expire time in '${name.toLowerCase()}' command`,
      );
    }
    await expect(redis.call('SETEX', 'bad', '1.5', 'v')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('PSETEX', 'bad', '10', 'v', 'x')).rejects.toThrow(
      "ERR wrong number of arguments for 'psetex' command",
    );
    expect(await redis.exists('bad')).toBe(0);
  });

  it('GETSET answers the old value and drops the expiry', async () => {
    const redis = connect();
    expect(await redis.getset('gs', 'a')).toBeNull();
    await redis.expire('gs', 100);
    expect(await redis.getset('gs', 'b')).toBe('a');
    expect(await redis.get('gs')).toBe('b');
    expect(await redis.ttl('gs')).toBe(-1);
  });
});

describe('GETEX', () => {
  it('answers the value and sets, keeps or removes its expiry', async () => {
    const redis = connect();
    expect(await redis.getex('gx-missing', 'EX', 10)).toBeNull();
    expect(await redis.exists('gx-missing')).toBe(0);
    await redis.set('gx', 'v');
    expect(await redis.getex('gx')).toBe('v');
    expect(await redis.ttl('gx')).toBe(-1);
    expect(await redis.getex('gx', 'EX', 100)).toBe('v');
    expect(await redis.ttl('gx')).toBeGreaterThan(98);
    expect(await redis.getex('gx', 'PX', 5000)).toBe('v');
    expect(await redis.pttl('gx')).toBeLessThanOrEqual(5000);
    expect(await redis.call('GETEX', 'gx', 'EXAT', String(FAR_MS / 1000))).toBe('v');
    expect(await redis.pttl('gx')).toBeGreaterThan(FAR_MS - Date.now() - 1000);
    await redis.persist('gx');
    expect(await redis.call('GETEX', 'gx', 'pxat', String(FAR_MS))).toBe('v');
    expect(await redis.pttl('gx')).toBeGreaterThan(FAR_MS - Date.now() - 1000);
    expect(await redis.getex('gx')).toBe('v'); // no option: the expiry stays
    expect(await redis.ttl('gx')).toBeGreaterThan(0);
    expect(await redis.getex('gx', 'PERSIST')).toBe('v');
    expect(await redis.ttl('gx')).toBe(-1);
    // A time already past deletes the key, after answering its value.
    expect(await redis.call('GETEX', 'gx', 'PXAT', '1')).toBe('v');
    expect(await redis.exists('gx')).toBe(0);
  });

  it('refuses conflicting or malformed options before looking at the key, a bad time after', async () => {
    const redis = connect();
    await redis.set('gx2', 'v', 'EX', 100);
    for (const options of [
      ['EX'],
      ['EX', '10', 'PX', '10'],
      ['PERSIST', 'EX', '10'],
      ['EX', '10', 'PERSIST'],
      ['KEEPTTL'],
      ['NX'],
      ['FOO'],
    ]) {
      await expect(redis.call('GETEX', 'gx2', ...options)).rejects.toThrow(/^ERR syntax error$/);
    }
    await expect(redis.call('GETEX', 'gx2', 'EX', 'ten')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('GETEX', 'gx2', 'EX', '0')).rejects.toThrow(
      "ERR invalid expire time in 'getex' command",
    );
    await expect(redis.call('GETEX', 'gx2', 'PXAT', '-1')).rejects.toThrow(
      "ERR invalid expire time in 'getex' command",
    );
    // As in Redis, the time is judged only for a key that exists: a missing one answers null.
    for (const time of [
      ['EX', '0'],
      ['PXAT', '-1'],
      ['EX', 'ten'],
    ]) {
      expect(await redis.call('GETEX', 'no-such-key', ...time)).toBeNull();
    }
    await expect(redis.call('GETEX')).rejects.toThrow(
      "ERR wrong number of arguments for 'getex' command",
    );
    expect(await redis.ttl('gx2')).toBeGreaterThan(98); // untouched
  });
});

describe('MSETNX', () => {
  it('sets every pair, or none if any key exists', async () => {
    const redis = connect();
    expect(await redis.msetnx('m1', 'a', 'm2', 'b')).toBe(1);
    expect(await redis.msetnx('m3', 'c', 'm2', 'x', 'm4', 'd')).toBe(0);
    expect(await redis.mget('m1', 'm2', 'm3', 'm4')).toEqual(['a', 'b', null, null]);
    expect(await redis.msetnx('m5', 'first', 'm5', 'last')).toBe(1); // the last pair wins
    expect(await redis.get('m5')).toBe('last');
    await expect(redis.call('MSETNX', 'm6', 'a', 'm7')).rejects.toThrow(
      "ERR wrong number of arguments for 'msetnx' command",
    );
    expect(await redis.exists('m6', 'm7')).toBe(0);
  });

  it('is all or nothing between concurrent clients whose key sets overlap', async () => {
    const clients = Array.from({ length: 6 }, () => connect());
    // Client i claims ring keys i and i+1: neighbours compete for the key between them.
    const key = (i: number) => `ring:${i % clients.length}`;
    const replies = await Promise.all(
      clients.map((client, i) => client.msetnx(key(i), `c${i}`, key(i + 1), `c${i}`)),
    );
    const values = await clients[0]!.mget(...clients.map((_, i) => key(i)));
    for (const [i, reply] of replies.entries()) {
      const mine = [values[i % clients.length], values[(i + 1) % clients.length]];
      if (reply === 1) expect(mine).toEqual([`c${i}`, `c${i}`]);
      else expect(mine).not.toContain(`c${i}`);
    }
    expect(replies.filter((r) => r === 1).length).toBeGreaterThanOrEqual(1);
  });
});

describe('SETRANGE, GETRANGE and SUBSTR', () => {
  it('SETRANGE overwrites, pads with zero bytes and answers the new length', async () => {
    const redis = connect();
    await redis.set('sr', 'Hello World');
    expect(await redis.setrange('sr', 6, 'Redis')).toBe(11);
    expect(await redis.get('sr')).toBe('Hello Redis');
    expect(await redis.setrange('sr', 9, 'wood!')).toBe(14);
    expect(await redis.get('sr')).toBe('Hello Redwood!');
    expect(await redis.setrange('sr-pad', 3, Buffer.from([0xff, 0]))).toBe(5);
    expect(await redis.getBuffer('sr-pad')).toEqual(Buffer.from([0, 0, 0, 0xff, 0]));
    // An empty value writes nothing: not even a missing key, whatever the offset.
    expect(await redis.setrange('sr-none', 5, '')).toBe(0);
    expect(await redis.setrange('sr-none', 9_000_000_000, '')).toBe(0);
    expect(await redis.exists('sr-none')).toBe(0);
    expect(await redis.setrange('sr', 100, '')).toBe(14);
  });

  it('SETRANGE keeps the expiry and refuses bad offsets with Redis errors', async () => {
    const redis = connect();
    await redis.set('sr-ttl', 'abc', 'EX', 100);
    expect(await redis.setrange('sr-ttl', 1, 'X')).toBe(3);
    expect(await redis.get('sr-ttl')).toBe('aXc');
    expect(await redis.ttl('sr-ttl')).toBeGreaterThan(98);
    await expect(redis.call('SETRANGE', 'sr-ttl', '-1', 'x')).rejects.toThrow(
      'ERR offset is out of range',
    );
    await expect(redis.call('SETRANGE', 'sr-ttl', '1.0', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    for (const offset of ['536870912', '9223372036854775807']) {
      await expect(redis.call('SETRANGE', 'sr-ttl', offset, 'x')).rejects.toThrow(
        'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
      );
    }
    await expect(redis.call('SETRANGE', 'sr-ttl', '1')).rejects.toThrow(
      "ERR wrong number of arguments for 'setrange' command",
    );
    expect(await redis.get('sr-ttl')).toBe('aXc');
  });

  it('SETRANGE is bounded by proto-max-bulk-len, then by the store maxValueBytes', async () => {
    const small = await startTestServer({
      limits: { maxBulkBytes: 4096 },
      store: { maxValueBytes: 1024 },
    });
    shared.afterTest(() => small.close());
    const redis = connect(small.port);
    expect(await redis.setrange('big', 1023, 'x')).toBe(1024);
    await expect(redis.setrange('big', 1024, 'x')).rejects.toThrow(/^KV_VALUE_TOO_LARGE /);
    await expect(redis.setrange('big', 4096, 'x')).rejects.toThrow(
      'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
    );
    expect(await redis.strlen('big')).toBe(1024);
  });

  it('SETRANGE from concurrent clients loses no write', async () => {
    const clients = Array.from({ length: 4 }, () => connect());
    await Promise.all(
      clients.map(async (client, c) => {
        const pipeline = client.pipeline();
        for (let i = 0; i < 50; i++) pipeline.setrange('sr-shared', (i * 4 + c) * 2, `${c}${c}`);
        await pipeline.exec();
      }),
    );
    const expected = Array.from({ length: 200 }, (_, slot) => `${slot % 4}${slot % 4}`).join('');
    expect(await clients[0]!.get('sr-shared')).toBe(expected);
  });

  it('GETRANGE and SUBSTR clamp the range as Redis 7.2 does', async () => {
    const redis = connect();
    await redis.set('gr', 'This is a string');
    const cases: [number, number, string][] = [
      [0, 3, 'This'],
      [-3, -1, 'ing'],
      [0, -1, 'This is a string'],
      [10, 100, 'string'],
      [-100, 3, 'This'],
      [0, -100, 'T'], // end clamps to 0: Redis 7.2 answers the first byte
      [-1, -5, ''],
      [5, 2, ''],
      [16, 20, ''],
      [-100, -200, ''],
    ];
    for (const [start, end, expected] of cases) {
      expect(await redis.getrange('gr', start, end)).toBe(expected);
      expect(await redis.call('SUBSTR', 'gr', String(start), String(end))).toBe(expected);
    }
    expect(await redis.getrange('gr-missing', 0, -1)).toBe('');
    await redis.set('gr-empty', '');
    expect(await redis.getrange('gr-empty', 0, -1)).toBe('');
    await expect(redis.call('GETRANGE', 'gr', 'a', '1')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('SUBSTR', 'gr', '0')).rejects.toThrow(
      "ERR wrong number of arguments for 'substr' command",
    );
  });

  it('read-modify-writes see the earlier writes of their pipeline and apply in order', async () => {
    const redis = connect();
    await redis.mset('pl-k', 'old', 'pl-t', 'text', 'pl-e', 'x');
    const replies = await redis
      .pipeline()
      .del('pl-k')
      .msetnx('pl-k', 'v')
      .set('pl-t', '1')
      .incrbyfloat('pl-t', '1')
      .set('pl-e', 'abcdef')
      .setrange('pl-e', 0, '')
      .getex('pl-e', 'EX', 100)
      .setrange('pl-e', 0, 'A')
      .set('pl-e', 'last')
      .exec();
    expect(replies).toEqual(
      [1, 1, 'OK', '2', 'OK', 6, 'abcdef', 6, 'OK'].map((reply) => [null, reply]),
    );
    expect(await redis.mget('pl-k', 'pl-t', 'pl-e')).toEqual(['v', '2', 'last']);
  });

  it('works through node-redis and redis-cli too', async () => {
    const client = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    await client.connect();
    shared.afterTest(() => client.destroy());
    expect(await client.setNX('nr', 'v')).toBe(1);
    expect(await client.setRange('nr', 1, 'alue')).toBe(5);
    expect(await client.getRange('nr', 1, -1)).toBe('alue');
    expect(await client.getEx('nr', { type: 'PX', value: 10_000 })).toBe('value');
    expect(await client.pTTL('nr')).toBeGreaterThan(9000);
    expect(await client.getSet('nr', 'new')).toBe('value');
    expect(await client.mSetNX(['nr', 'x', 'nr2', 'y'])).toBe(0);
    expect((await redisCli(shared.server.port, ['SETEX', 'cli', '100', 'v'])).trim()).toBe('OK');
    expect((await redisCli(shared.server.port, ['GETRANGE', 'cli', '0', '0'])).trim()).toBe('v');
  });
});
