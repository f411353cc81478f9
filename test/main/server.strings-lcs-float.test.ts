// Tests LCS and INCRBYFLOAT through real clients (ioredis, node-redis, a raw RESP3 client): LCS's
// replies and options, its table limit, and a property test of its answers; INCRBYFLOAT's
// results digit for digit as Redis prints them (x87 extended precision), the numbers it accepts
// and refuses, kept expiry, concurrent increments; and the extended-precision module directly.

import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import {
  addExtended,
  formatExtended,
  INFINITE,
  parseExtended,
} from '../../dist/main/server/commands/strings/extended-float.js';
import { startTestServer } from '../fixtures/kvd-server.js';
import { RespClient } from '../fixtures/resp-client.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const connect = (port?: number): Redis => shared.connect(port === undefined ? {} : { port });

describe('LCS', () => {
  it('answers the subsequence, its length, or its matching runs', async () => {
    const redis = connect();
    await redis.mset('l1', 'ohmytext', 'l2', 'mynewtext');
    expect(await redis.call('LCS', 'l1', 'l2')).toBe('mytext');
    expect(await redis.call('LCS', 'l1', 'l2', 'len')).toBe(6);
    expect(await redis.call('LCS', 'l1', 'l2', 'IDX')).toEqual([
      'matches',
      [
        [
          [4, 7],
          [5, 8],
        ],
        [
          [2, 3],
          [0, 1],
        ],
      ],
      'len',
      6,
    ]);
    expect(await redis.call('LCS', 'l1', 'l2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN')).toEqual([
      'matches',
      [[[4, 7], [5, 8], 4]],
      'len',
      6,
    ]);
    const all = await redis.call('LCS', 'l1', 'l2', 'IDX', 'MINMATCHLEN', '-3', 'WITHMATCHLEN');
    expect(all).toEqual([
      'matches',
      [
        [[4, 7], [5, 8], 4],
        [[2, 3], [0, 1], 2],
      ],
      'len',
      6,
    ]);
    // A missing key is an empty string.
    expect(await redis.call('LCS', 'l1', 'l-missing')).toBe('');
    expect(await redis.call('LCS', 'l-missing', 'l2', 'IDX')).toEqual(['matches', [], 'len', 0]);
  });

  it('answers a map in RESP3 and refuses bad options with Redis errors', async () => {
    const raw = await RespClient.connect(shared.server.port);
    shared.afterTest(() => raw.close());
    await raw.call('HELLO', '3');
    await raw.call('MSET', 'r1', 'abc', 'r2', 'xbc');
    expect((await raw.call('LCS', 'r1', 'r2', 'IDX')).raw).toBe(
      '%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:1\r\n:2\r\n*2\r\n:1\r\n:2\r\n$3\r\nlen\r\n:2\r\n',
    );
    const redis = connect();
    await expect(redis.call('LCS', 'r1', 'r2', 'LEN', 'IDX')).rejects.toThrow(
      'ERR If you want both the length and indexes, please just use IDX.',
    );
    for (const options of [['FOO'], ['MINMATCHLEN'], ['IDX', 'MINMATCHLEN']]) {
      await expect(redis.call('LCS', 'r1', 'r2', ...options)).rejects.toThrow(/^ERR syntax error$/);
    }
    await expect(redis.call('LCS', 'r1', 'r2', 'MINMATCHLEN', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('LCS', 'r1')).rejects.toThrow(
      "ERR wrong number of arguments for 'lcs' command",
    );
  });

  it('refuses a table larger than proto-max-bulk-len', async () => {
    const small = await startTestServer({ limits: { maxBulkBytes: 1000 } });
    shared.afterTest(() => small.close());
    const redis = connect(small.port);
    await redis.mset('a', 'x'.repeat(10), 'c', 'x'.repeat(20)); // 21 × 21 × 4 > 1000
    expect(await redis.call('LCS', 'a', 'c', 'LEN')).toBe(10); // 11 × 21 × 4 bytes
    await expect(redis.call('LCS', 'c', 'c')).rejects.toThrow(
      'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len',
    );
  });

  it('answers a common subsequence of the longest length, with runs that spell it', async () => {
    const redis = connect();
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(text, text, async (a, b) => {
        await redis.mset('p1', a, 'p2', b);
        const lcs = (await redis.call('LCS', 'p1', 'p2')) as string;
        const [, matches, , len] = (await redis.call('LCS', 'p1', 'p2', 'IDX', 'WITHMATCHLEN')) as [
          string,
          [[number, number], [number, number], number][],
          string,
          number,
        ];
        expect(lcs.length).toBe(longestLength(a, b));
        expect(len).toBe(lcs.length);
        expect(isSubsequence(lcs, a) && isSubsequence(lcs, b)).toBe(true);
        // Runs come last first; read back in order they spell the subsequence.
        const spelled = [...matches]
          .reverse()
          .map(([[aStart, aEnd], [bStart, bEnd], length]) => {
            expect(a.slice(aStart, aEnd + 1)).toBe(b.slice(bStart, bEnd + 1));
            expect(length).toBe(aEnd - aStart + 1);
            return a.slice(aStart, aEnd + 1);
          })
          .join('');
        expect(spelled).toBe(lcs);
      }),
      { numRuns: 60 },
    );
  });
});

describe('INCRBYFLOAT', () => {
  it('adds as Redis does, printing 17 decimals at most, trimmed', async () => {
    const redis = connect();
    await redis.set('f', '10.50');
    expect(await redis.incrbyfloat('f', '0.1')).toBe('10.6');
    expect(await redis.incrbyfloat('f', '-5')).toBe('5.6');
    expect(await redis.get('f')).toBe('5.6');
    await redis.set('f', '5.0e3');
    expect(await redis.incrbyfloat('f', '2.0e2')).toBe('5200');
    // Sums a real Redis on x86-64 printed (long double rounding shows past 128).
    const seen: [string, string, string][] = [
      ['10', '0.1', '10.1'],
      ['127', '0.1', '127.1'],
      ['128', '0.1', '128.10000000000000001'],
      ['1000', '0.1', '1000.09999999999999998'],
      ['0.1', '0.2', '0.3'],
      ['314e-2', '0', '3.14'],
      ['3.0', '1.000000000000000000000', '4'],
      ['18446744073709551614', '1', '18446744073709551615'],
      ['0x10', '0x1p-1', '16.5'],
      ['-1e-30', '0', '0'],
      ['.5', '5.', '5.5'],
    ];
    for (const [start, increment, sum] of seen) {
      await redis.set('f', start);
      expect(await redis.incrbyfloat('f', increment)).toBe(sum);
    }
    expect(await redis.incrbyfloat('f-new', '1e3')).toBe('1000');
    // 1e400 is not a binary number: its nearest long double prints all 401 digits it has.
    expect(await redis.incrbyfloat('f-big', '1e400')).toMatch(/^(10{18}|9{19})\d{382}$/);
  });

  it('refuses what Redis refuses, changing nothing', async () => {
    const redis = connect();
    await redis.set('g', '1.5', 'EX', 100);
    const notFloat = ['abc', '', ' 1', '1 ', '1e', 'nan', '1e5000', '1e-5000', '0x', '1,5'];
    for (const increment of notFloat) {
      await expect(redis.incrbyfloat('g', increment)).rejects.toThrow(
        /^ERR value is not a valid float$/,
      );
    }
    await expect(redis.incrbyfloat('g', '1'.padStart(5120, '0'))).rejects.toThrow(
      'ERR value is not a valid float',
    );
    expect(await redis.incrbyfloat('g', '1'.padStart(5119, '0'))).toBe('2.5');
    for (const increment of ['inf', '-Infinity']) {
      await expect(redis.incrbyfloat('g', increment)).rejects.toThrow(
        'ERR increment would produce NaN or Infinity',
      );
    }
    await redis.set('h', '1e4932', 'EX', 100);
    await expect(redis.incrbyfloat('h', '1e4932')).rejects.toThrow(
      'ERR increment would produce NaN or Infinity',
    );
    await redis.set('h', 'text');
    await expect(redis.incrbyfloat('h', '1')).rejects.toThrow('ERR value is not a valid float');
    await expect(redis.call('INCRBYFLOAT', 'g')).rejects.toThrow(
      "ERR wrong number of arguments for 'incrbyfloat' command",
    );
    expect(await redis.get('g')).toBe('2.5');
    expect(await redis.ttl('g')).toBeGreaterThan(98); // the expiry is kept
  });

  it('loses no increment between concurrent clients, and works through node-redis', async () => {
    const clients = Array.from({ length: 4 }, () => connect());
    await Promise.all(
      clients.map(async (client) => {
        const pipeline = client.pipeline();
        for (let i = 0; i < 50; i++) pipeline.incrbyfloat('shared-float', '0.25');
        const results = await pipeline.exec();
        for (const [error] of results ?? []) expect(error).toBeNull();
      }),
    );
    expect(await clients[0]!.get('shared-float')).toBe('50');
    const client = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    await client.connect();
    shared.afterTest(() => client.destroy());
    expect(await client.incrByFloat('shared-float', 0.5)).toBe('50.5');
  });
});

describe('extended-precision arithmetic', () => {
  const sum = (a: string, b: string): string => {
    const x = parseExtended(Buffer.from(a));
    const y = parseExtended(Buffer.from(b));
    if (x === undefined || y === undefined || x === INFINITE || y === INFINITE) throw new Error();
    const s = addExtended(x, y);
    return s === INFINITE ? 'inf' : formatExtended(s);
  };

  it('adds integers below 2^63 exactly', () => {
    const int = fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n });
    fc.assert(fc.property(int, int, (a, b) => sum(String(a), String(b)) === String(a + b)));
  });

  it('agrees with double arithmetic to within its rounding', () => {
    const num = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 });
    fc.assert(
      fc.property(num, num, (a, b) => {
        const result = Number(sum(String(a), String(b)));
        const scale = Math.max(Math.abs(a), Math.abs(b));
        expect(Math.abs(result - (a + b))).toBeLessThanOrEqual(scale * 2 ** -50 + 1e-17);
      }),
    );
  });

  it('reaches the edges of the format: subnormals and the largest value', () => {
    expect(sum('1.18973149535723176502e4932', '0')).toMatch(/^118973149535723176502\d{4912}$/);
    expect(sum('1.18973149535723176502e4932', '1e4914')).toBe('inf');
    expect(sum('4e-4951', '0')).toBe('0'); // subnormal: parsed, printed as 0 at 17 decimals
    expect(parseExtended(Buffer.from('1e-4952'))).toBeUndefined(); // rounds to 0: refused
    expect(parseExtended(Buffer.from('0e99999999999'))).toMatchObject({ significand: 0n });
  });
});

/** The length of the longest common subsequence, by memoised recursion (independent of the DP). */
function longestLength(a: string, b: string): number {
  const memo = new Map<string, number>();
  const go = (i: number, j: number): number => {
    if (i === a.length || j === b.length) return 0;
    const key = `${i},${j}`;
    let best = memo.get(key);
    if (best === undefined) {
      best = a[i] === b[j] ? 1 + go(i + 1, j + 1) : Math.max(go(i + 1, j), go(i, j + 1));
      memo.set(key, best);
    }
    return best;
  };
  return go(0, 0);
}

function isSubsequence(small: string, big: string): boolean {
  let i = 0;
  for (const ch of big) if (ch === small[i]) i++;
  return i === small.length;
}
