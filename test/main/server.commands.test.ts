// Tests the daemon's read-modify-write and keyspace commands with ioredis and redis-cli: INCR
// and friends (atomic under concurrent clients), APPEND, GETDEL, SET NX/XX/GET/KEEPTTL, the
// EXPIRE family with TTL/PTTL/PERSIST, KEYS, SCAN (complete under concurrent writes), FLUSHALL,
// COMPACT, and the glob matcher SCAN and KEYS use.

import { describe, expect, it } from 'vitest';
import { globMatch } from '../../dist/main/server/glob.js';
import { redisCli } from '../fixtures/kvd-server.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const connect = () => shared.connect();

describe('counters and read-modify-write commands', () => {
  it('INCR, DECR, INCRBY and DECRBY count atomically, with Redis errors', async () => {
    const redis = connect();
    expect(await redis.incr('n')).toBe(1);
    expect(await redis.incrby('n', 41)).toBe(42);
    expect(await redis.decrby('n', 50)).toBe(-8);
    expect(await redis.decr('n')).toBe(-9);
    expect(await redis.get('n')).toBe('-9');
    await redis.set('n', '9223372036854775806');
    // stringNumbers: the 64-bit reply arrives exactly, not rounded to a double.
    const exact = shared.connect({ stringNumbers: true });
    expect(await exact.incr('n')).toBe('9223372036854775807');
    expect(await redis.get('n')).toBe('9223372036854775807');
    await expect(redis.incr('n')).rejects.toThrow(/^ERR increment or decrement would overflow$/);
    expect(await redis.get('n')).toBe('9223372036854775807'); // unchanged
    await redis.set('low', '-2');
    await expect(redis.call('INCRBY', 'low', '-9223372036854775807')).rejects.toThrow(
      /^ERR increment or decrement would overflow$/,
    );
    await redis.set('text', 'abc');
    await expect(redis.incr('text')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(redis.call('INCRBY', 'n', '1.5')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('DECRBY', 'n', '-9223372036854775808')).rejects.toThrow(
      'ERR decrement would overflow',
    );
  });

  it('applies concurrent INCRs from many clients exactly once each', async () => {
    const redises = Array.from({ length: 4 }, () => connect());
    await Promise.all(
      redises.map(async (r) => {
        const pipeline = r.pipeline();
        for (let i = 0; i < 250; i++) pipeline.incr('shared');
        await pipeline.exec();
      }),
    );
    expect(await redises[0]!.get('shared')).toBe('1000');
  });

  it('APPEND and GETDEL', async () => {
    const redis = connect();
    expect(await redis.append('log', 'ab')).toBe(2);
    expect(await redis.append('log', Buffer.from([0, 13, 10]))).toBe(5);
    expect(await redis.getBuffer('log')).toEqual(Buffer.from([97, 98, 0, 13, 10]));
    expect(await redis.getdelBuffer('log')).toEqual(Buffer.from([97, 98, 0, 13, 10]));
    expect(await redis.getdel('log')).toBeNull();
    expect(await redis.exists('log')).toBe(0);
  });

  it('SET NX, XX, GET and KEEPTTL', async () => {
    const redis = connect();
    expect(await redis.set('c', '1', 'NX')).toBe('OK');
    expect(await redis.set('c', '2', 'NX')).toBeNull();
    expect(await redis.set('absent', '2', 'XX')).toBeNull();
    expect(await redis.exists('absent')).toBe(0);
    expect(await redis.set('c', '3', 'XX')).toBe('OK');
    expect(await redis.set('c', '4', 'GET')).toBe('3');
    expect(await redis.call('SET', 'fresh', '1', 'GET')).toBeNull();
    expect(await redis.set('c', '5', 'EX', 100)).toBe('OK');
    expect(await redis.call('SET', 'c', '6', 'KEEPTTL')).toBe('OK');
    expect(await redis.ttl('c')).toBeGreaterThan(90);
    expect(await redis.set('c', '7')).toBe('OK'); // a plain SET clears the expiry
    expect(await redis.ttl('c')).toBe(-1);
    await expect(redis.call('SET', 'c', '1', 'NX', 'XX')).rejects.toThrow('ERR syntax error');
    await expect(redis.call('SET', 'c', '1', 'EX', '5', 'KEEPTTL')).rejects.toThrow(
      'ERR syntax error',
    );
  });

  it('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL and PERSIST', async () => {
    const redis = connect();
    await redis.set('e', 'v');
    expect(await redis.ttl('e')).toBe(-1);
    expect(await redis.ttl('missing')).toBe(-2);
    expect(await redis.pttl('missing')).toBe(-2);
    expect(await redis.expire('e', 100)).toBe(1);
    expect(await redis.ttl('e')).toBe(100);
    const pttl = await redis.pttl('e');
    expect(pttl).toBeGreaterThan(95_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    expect(await redis.pexpire('e', 50_000)).toBe(1);
    expect(await redis.ttl('e')).toBe(50);
    const at = Math.floor(Date.now() / 1000) + 1000;
    expect(await redis.expireat('e', at)).toBe(1);
    expect(Math.abs((await redis.ttl('e')) - 1000)).toBeLessThanOrEqual(1);
    expect(await redis.pexpireat('e', Date.now() + 20_000)).toBe(1);
    expect(Math.abs((await redis.ttl('e')) - 20)).toBeLessThanOrEqual(1);
    expect(await redis.persist('e')).toBe(1);
    expect(await redis.persist('e')).toBe(0);
    expect(await redis.ttl('e')).toBe(-1);
    expect(await redis.expire('missing', 10)).toBe(0);
    expect(await redis.expire('e', -1)).toBe(1); // in the past: deleted
    expect(await redis.exists('e')).toBe(0);
    await redis.set('e', 'v');
    expect(await redis.expireat('e', 0)).toBe(1);
    expect(await redis.get('e')).toBeNull();
    await expect(redis.call('EXPIRE', 'e', 'soon')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('EXPIRE', 'e', '9223372036854775807')).rejects.toThrow(
      "ERR invalid expire time in 'expire' command",
    );
  });

  it('EXPIRE options NX, XX, GT and LT, with Redis errors for bad combinations', async () => {
    const redis = connect();
    await redis.set('c', 'v');
    expect(await redis.call('EXPIRE', 'c', '100', 'XX')).toBe(0); // no expiry yet
    expect(await redis.call('EXPIRE', 'c', '100', 'GT')).toBe(0); // none counts as never
    expect(await redis.call('EXPIRE', 'c', '100', 'NX')).toBe(1);
    expect(await redis.call('EXPIRE', 'c', '200', 'NX')).toBe(0);
    expect(await redis.call('EXPIRE', 'c', '50', 'GT')).toBe(0);
    expect(await redis.call('EXPIRE', 'c', '300', 'gt')).toBe(1);
    expect(await redis.ttl('c')).toBeGreaterThan(200);
    expect(await redis.call('EXPIRE', 'c', '400', 'LT')).toBe(0);
    expect(await redis.call('EXPIRE', 'c', '150', 'XX', 'LT')).toBe(1);
    expect(await redis.ttl('c')).toBeLessThanOrEqual(150);
    await redis.set('d', 'v');
    expect(await redis.call('EXPIRE', 'd', '100', 'LT')).toBe(1); // none counts as never
    expect(await redis.call('EXPIRE', 'missing', '100', 'NX')).toBe(0);
    await expect(redis.call('EXPIRE', 'c', '10', 'NX', 'XX')).rejects.toThrow(
      'ERR NX and XX, GT or LT options at the same time are not compatible',
    );
    await expect(redis.call('EXPIRE', 'c', '10', 'GT', 'LT')).rejects.toThrow(
      'ERR GT and LT options at the same time are not compatible',
    );
    await expect(redis.call('EXPIRE', 'c', '10', 'SOON')).rejects.toThrow(
      'ERR Unsupported option SOON',
    );
    // Redis's order: an option's error before the time's.
    await expect(redis.call('EXPIRE', 'c', 'soon', 'SOON')).rejects.toThrow(
      'ERR Unsupported option SOON',
    );
    await expect(redis.call('PEXPIRE', 'c', '1.5', 'GT', 'LT')).rejects.toThrow(
      'ERR GT and LT options at the same time are not compatible',
    );
  });

  it('orders a pipelined TTL after the SET EX before it', async () => {
    const redis = connect();
    const results = await redis.pipeline().set('pt', 'v', 'EX', 30).ttl('pt').exec();
    expect(results!.map(([, v]) => v)).toEqual(['OK', 30]);
  });
});

describe('KEYS and SCAN', () => {
  it('KEYS filters with glob patterns', async () => {
    const redis = connect();
    await redis.mset('user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'order:1', 'd');
    expect((await redis.keys('user:?')).sort()).toEqual(['user:1', 'user:2']);
    expect((await redis.keys('user:*')).sort()).toEqual(['user:1', 'user:10', 'user:2']);
    expect(await redis.keys('order:[0-9]')).toEqual(['order:1']);
    expect(await redis.keys('nothing*')).toEqual([]);
  });

  it('SCAN returns every key present for the whole scan, under concurrent writes', async () => {
    const redis = connect();
    const writer = connect();
    const stable = Array.from({ length: 1500 }, (_, i) => `stable:${i}`);
    const pipeline = redis.pipeline();
    for (const key of stable) pipeline.set(key, 'x');
    for (let i = 0; i < 300; i++) pipeline.set(`churn:${i}`, 'y');
    await pipeline.exec();

    let writing = true;
    const churn = (async () => {
      for (let round = 0; writing; round++) {
        const p = writer.pipeline();
        for (let i = 0; i < 50; i++) {
          p.del(`churn:${(round * 50 + i) % 300}`);
          p.set(`churn:new:${round}:${i}`, 'z');
        }
        await p.exec();
      }
    })();

    const seen = new Map<string, number>();
    let cursor = '0';
    let pages = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'stable:*', 'COUNT', 97);
      for (const key of keys) seen.set(key, (seen.get(key) ?? 0) + 1);
      cursor = next;
      pages++;
    } while (cursor !== '0');
    writing = false;
    await churn;

    expect(pages).toBeGreaterThan(5);
    expect(stable.filter((key) => seen.get(key) !== 1)).toEqual([]);
    expect([...seen.keys()].every((key) => key.startsWith('stable:'))).toBe(true);
  });

  it('SCAN cursors, COUNT, TYPE and errors; redis-cli --scan', async () => {
    const redis = connect();
    await redis.mset('s:a', '1', 's:b', '2', 's:c', '3');
    const scanAll = async (...options: (string | number)[]): Promise<string[]> => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = (await redis.call('SCAN', cursor, ...options)) as [string, string[]];
        found.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      return found.sort();
    };
    expect(await scanAll('TYPE', 'hash', 'COUNT', 500)).toEqual([]);
    expect(await scanAll('MATCH', 's:*', 'TYPE', 'string', 'COUNT', 500)).toEqual([
      's:a',
      's:b',
      's:c',
    ]);
    await expect(redis.scan('abc')).rejects.toThrow('ERR invalid cursor');
    await expect(redis.scan('12345')).rejects.toThrow(/unknown or expired cursor/);
    await expect(redis.call('SCAN', '0', 'COUNT', '0')).rejects.toThrow('ERR syntax error');
    await expect(redis.call('SCAN', '0', 'BOGUS', 'x')).rejects.toThrow('ERR syntax error');
    const listed = (await redisCli(shared.server.port, ['--scan', '--pattern', 's:*']))
      .trim()
      .split('\n');
    expect(listed.sort()).toEqual(['s:a', 's:b', 's:c']);
  });
});

describe('FLUSHALL', () => {
  it('deletes every key atomically; FLUSHDB too', async () => {
    const redis = connect();
    await redis.mset('f:1', 'a', 'f:2', 'b');
    expect(await redis.dbsize()).toBeGreaterThan(1);
    const results = await redis.pipeline().set('f:3', 'c').flushall().get('f:1').exec();
    expect(results!.map(([, v]) => v)).toEqual(['OK', 'OK', null]);
    expect(await redis.dbsize()).toBe(0);
    expect(await redis.keys('*')).toEqual([]);
    await redis.set('f:4', 'd');
    expect(await redis.flushdb('SYNC')).toBe('OK');
    expect(await redis.exists('f:4')).toBe(0);
  });
});

describe('COMPACT', () => {
  it('merges every sealed segment and answers with what it did; values stay readable', async () => {
    const redis = connect();
    for (let round = 0; round < 3; round++) {
      await redis.mset(
        ...Array.from({ length: 50 }, (_, i) => [`c:${i}`, `v${round}:${i}`]).flat(),
      );
    }
    await redis.del('c:0');
    const result = JSON.parse(await redisCli(shared.server.port, ['COMPACT'])) as {
      segmentsMerged: number;
      bytesBefore: number;
      bytesAfter: number;
    };
    expect(result.segmentsMerged).toBeGreaterThan(0);
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore);
    expect(await redis.get('c:0')).toBeNull();
    expect(await redis.mget('c:1', 'c:49')).toEqual(['v2:1', 'v2:49']);
    const stats = JSON.parse(await redisCli(shared.server.port, ['STATS'])) as {
      segments: { merged: boolean; active: boolean }[];
    };
    expect(stats.segments.every((s) => s.merged || s.active)).toBe(true);
    expect(await redisCli(shared.server.port, ['COMPACT', 'now'])).toBe(
      "ERR wrong number of arguments for 'compact' command\n\n",
    );
  });
});

describe('globMatch', () => {
  const m = (pattern: string, text: string) =>
    globMatch(Buffer.from(pattern, 'latin1'), Buffer.from(text, 'latin1'));

  it("follows Redis's stringmatchlen rules", () => {
    expect(m('*', '')).toBe(true);
    expect(m('a*', 'abc')).toBe(true);
    expect(m('a*c', 'abbbc')).toBe(true);
    expect(m('a*c', 'abbb')).toBe(false);
    expect(m('a?c', 'abc')).toBe(true);
    expect(m('a?c', 'ac')).toBe(false);
    expect(m('[abc]x', 'bx')).toBe(true);
    expect(m('[^abc]x', 'bx')).toBe(false);
    expect(m('[^abc]x', 'dx')).toBe(true);
    expect(m('[a-c]', 'b')).toBe(true);
    expect(m('[c-a]', 'b')).toBe(true);
    expect(m('[a-c]', 'd')).toBe(false);
    expect(m('\\*', '*')).toBe(true);
    expect(m('\\*', 'a')).toBe(false);
    expect(m('[\\]]', ']')).toBe(true);
    expect(m('a**', 'a')).toBe(true);
    expect(m('*a*b*c*d*e*f*g*h*', 'a'.repeat(60))).toBe(false); // no exponential blow-up
    expect(m('', '')).toBe(true);
    expect(m('', 'a')).toBe(false);
  });
});
