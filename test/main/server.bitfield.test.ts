// Tests BITFIELD and BITFIELD_RO with real clients (ioredis, node-redis): GET/SET/INCRBY on
// signed and unsigned fields up to i64 and u63, `#` offsets, the OVERFLOW rules (WRAP, SAT, FAIL),
// growth and kept expiry, Redis 7.2's error texts and their order, concurrent INCRBYs, and a
// fast-check model whose overflow rules are BigInt.asIntN / asUintN and plain clamping.

import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
/** ioredis with 64-bit integers as exact strings. */
const connect = (): Redis => shared.connect({ stringNumbers: true });
function bitfield(redis: Redis, key: string, ...args: (string | number)[]): Promise<unknown> {
  return redis.call('BITFIELD', key, ...args.map(String));
}

const I64_MAX = '9223372036854775807';
const I64_MIN = '-9223372036854775808';

describe('BITFIELD', () => {
  it('reads and writes fields at any bit offset', async () => {
    const redis = connect();
    expect(await bitfield(redis, 'f', 'INCRBY', 'i5', 100, 1, 'GET', 'u4', 0)).toEqual(['1', '0']);
    expect(
      await bitfield(redis, 'f', 'SET', 'i8', 0, -100, 'GET', 'u4', 0, 'GET', 'i8', 0),
    ).toEqual(['0', '9', '-100']);
    expect(await bitfield(redis, 'f', 'SET', 'u8', '#1', 200, 'GET', 'u8', 8)).toEqual([
      '0',
      '200',
    ]);
    expect(await bitfield(redis, 'f', 'GET', 'i8', '#1')).toEqual(['-56']);
    const expected = Buffer.alloc(14); // the i5 at bit 100 ends in byte 13
    expected.set([0x9c, 200]);
    expected[13] = 0x80;
    expect(await redis.getBuffer('f')).toEqual(expected);
    expect(await bitfield(redis, 'f', 'GET', 'u16', 1000)).toEqual(['0']); // past the end
    expect(await bitfield(redis, 'f-missing', 'GET', 'i64', 0)).toEqual(['0']);
    expect(await redis.exists('f-missing')).toBe('0');
    expect(await bitfield(redis, 'f')).toEqual([]);
    expect(await bitfield(redis, 'f', 'OVERFLOW', 'SAT')).toEqual([]);
  });

  it('holds i64 and u63 fields exactly', async () => {
    const redis = connect();
    expect(await bitfield(redis, 'w', 'SET', 'i64', 3, I64_MAX, 'GET', 'i64', 3)).toEqual([
      '0',
      I64_MAX,
    ]);
    expect(await bitfield(redis, 'w', 'INCRBY', 'i64', 3, 1)).toEqual([I64_MIN]);
    expect(await bitfield(redis, 'w', 'OVERFLOW', 'SAT', 'INCRBY', 'i64', 3, -1)).toEqual([
      I64_MIN,
    ]);
    expect(await bitfield(redis, 'w', 'OVERFLOW', 'FAIL', 'INCRBY', 'i64', 3, I64_MIN)).toEqual([
      null,
    ]);
    expect(await bitfield(redis, 'w2', 'SET', 'u63', 0, I64_MAX, 'GET', 'u63', 0)).toEqual([
      '0',
      I64_MAX,
    ]);
    expect(await bitfield(redis, 'w2', 'INCRBY', 'u63', 0, 1)).toEqual(['0']);
  });

  it('applies WRAP, SAT and FAIL to the operations after each OVERFLOW', async () => {
    const redis = connect();
    for (const expected of [
      ['1', '1'],
      ['2', '2'],
      ['3', '3'],
      ['0', '3'],
    ]) {
      expect(
        await bitfield(
          redis,
          'o',
          'INCRBY',
          'u2',
          100,
          1,
          'OVERFLOW',
          'SAT',
          'INCRBY',
          'u2',
          102,
          1,
        ),
      ).toEqual(expected);
    }
    expect(await bitfield(redis, 'o', 'OVERFLOW', 'fail', 'INCRBY', 'u2', 102, 1)).toEqual([null]);
    expect(await bitfield(redis, 'o', 'GET', 'u2', 102)).toEqual(['3']);
    expect(await bitfield(redis, 'o', 'SET', 'i8', 0, 127, 'INCRBY', 'i8', 0, 1)).toEqual([
      '0',
      '-128',
    ]);
    expect(await bitfield(redis, 'o', 'OVERFLOW', 'SAT', 'INCRBY', 'i8', 0, -1000)).toEqual([
      '-128',
    ]);
    expect(await bitfield(redis, 'o', 'SET', 'i8', 0, 300, 'GET', 'i8', 0)).toEqual(['-128', '44']);
    // An unsigned SET reads its argument as a 64-bit unsigned number: -1 is 2^64 - 1.
    expect(await bitfield(redis, 'o', 'SET', 'u8', 0, -1, 'GET', 'u8', 0)).toEqual(['44', '255']);
    expect(
      await bitfield(redis, 'o', 'OVERFLOW', 'SAT', 'SET', 'u8', 0, -5, 'GET', 'u8', 0),
    ).toEqual(['255', '255']);
    expect(
      await bitfield(redis, 'o', 'OVERFLOW', 'FAIL', 'SET', 'u8', 0, 256, 'GET', 'u8', 0),
    ).toEqual([null, '255']);
    // Redis saturates a signed SET of a value at or below max - 2^63 to max, not min (its 64-bit
    // `max - value` wraps): kvd does too, so that a replica of redis-server stays equal to it.
    for (const [type, stored] of [
      ['i5', '15'],
      ['i32', '2147483647'],
      ['i63', '4611686018427387903'],
    ] as const) {
      for (const value of [
        '-9223372036854775808',
        `-${2n ** 63n - 2n ** BigInt(Number(type.slice(1)) - 1) + 1n}`,
      ]) {
        expect(
          await bitfield(redis, 'q', 'OVERFLOW', 'SAT', 'SET', type, 0, value, 'GET', type, 0),
        ).toEqual([expect.any(String), stored]);
      }
    }
    // One above that bound saturates to min, and i64 has no such case.
    for (const [type, value, stored] of [
      ['i5', '-9223372036854775792', '-16'],
      ['i64', '-9223372036854775808', '-9223372036854775808'],
    ] as const) {
      expect(
        await bitfield(redis, 'q', 'OVERFLOW', 'SAT', 'SET', type, 0, value, 'GET', type, 0),
      ).toEqual([expect.any(String), stored]);
    }
  });

  it('grows the value to hold written fields, even refused ones, keeping the expiry', async () => {
    const redis = connect();
    expect(await bitfield(redis, 'g', 'OVERFLOW', 'FAIL', 'SET', 'u8', 8, 256)).toEqual([null]);
    expect(await redis.getBuffer('g')).toEqual(Buffer.alloc(2));
    await redis.set('g', 'ab', 'EX', 100);
    expect(await bitfield(redis, 'g', 'SET', 'u8', 0, 65, 'GET', 'u8', 8)).toEqual(['97', '98']);
    expect(await redis.get('g')).toBe('Ab');
    expect(Number(await redis.ttl('g'))).toBeGreaterThan(98);
  });

  it('answers Redis errors, parse errors first, and changes nothing', async () => {
    const redis = connect();
    await redis.set('e', 'x');
    const typeError =
      'ERR Invalid bitfield type. Use something like i16 u8. ' +
      'Note that u64 is not supported but i64 is.';
    const errors: [(string | number)[], string][] = [
      [['GET', 'u64', 0], typeError],
      [['GET', 'i65', 0], typeError],
      [['GET', 'i0', 0], typeError],
      [['GET', 'I8', 0], typeError],
      [['GET', 'x8', 0], typeError],
      [['GET', 'u08', 0], typeError],
      [['GET', 'u8', -1], 'ERR bit offset is not an integer or out of range'],
      [['GET', 'u8', '#-1'], 'ERR bit offset is not an integer or out of range'],
      [['GET', 'u8', '1.5'], 'ERR bit offset is not an integer or out of range'],
      [['GET', 'u8', '#3000000000'], 'ERR bit offset is not an integer or out of range'],
      [['SET', 'u8', 0, 'x'], 'ERR value is not an integer or out of range'],
      [['INCRBY', 'u8', 0, '9223372036854775808'], 'ERR value is not an integer or out of range'],
      [['OVERFLOW', 'LOOSE'], 'ERR Invalid OVERFLOW type specified'],
      [['GET', 'u8'], 'ERR syntax error'],
      [['SET', 'u8', 0], 'ERR syntax error'],
      [['FROB', 'u8', 0], 'ERR syntax error'],
      [['OVERFLOW'], 'ERR syntax error'],
      [['SET', 'u8', 0, 1, 'GET', 'x8', 0], typeError],
    ];
    for (const [args, message] of errors) {
      await expect(bitfield(redis, 'e', ...args)).rejects.toThrow(message);
    }
    expect(await redis.get('e')).toBe('x');
  });
});

describe('BITFIELD_RO', () => {
  it('answers GETs and refuses writes, after parsing them', async () => {
    const redis = connect();
    await redis.set('ro', Buffer.from([0xff, 0x01]));
    expect(await redis.call('BITFIELD_RO', 'ro', 'GET', 'i8', 0, 'GET', 'u16', 0)).toEqual([
      '-1',
      '65281',
    ]);
    expect(await redis.call('BITFIELD_RO', 'ro')).toEqual([]);
    expect(await redis.call('BITFIELD_RO', 'ro', 'OVERFLOW', 'FAIL', 'GET', 'u1', 15)).toEqual([
      '1',
    ]);
    await expect(redis.call('BITFIELD_RO', 'ro', 'SET', 'u8', 0, 1)).rejects.toThrow(
      'ERR BITFIELD_RO only supports the GET subcommand',
    );
    await expect(redis.call('BITFIELD_RO', 'ro', 'INCRBY', 'u8', 0, 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    expect(await redis.getBuffer('ro')).toEqual(Buffer.from([0xff, 0x01]));
  });

  it('works through node-redis, and INCRBY from concurrent clients loses nothing', async () => {
    const client = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    await client.connect();
    shared.afterTest(() => client.destroy());
    const ops = [
      { operation: 'INCRBY' as const, encoding: 'u16' as const, offset: 4, increment: 3 },
    ];
    expect(await client.bitField('nr-f', ops)).toEqual([3]);
    expect(await client.bitFieldRo('nr-f', [{ encoding: 'u16', offset: 4 }])).toEqual([3]);
    const clients = Array.from({ length: 4 }, () => connect());
    await Promise.all(
      clients.map(async (redis) => {
        const pipeline = redis.pipeline();
        for (let i = 0; i < 50; i++) pipeline.call('BITFIELD', 'nr-f', 'INCRBY', 'u16', '4', '1');
        for (const [error] of (await pipeline.exec()) ?? []) expect(error).toBeNull();
      }),
    );
    expect(await client.bitFieldRo('nr-f', [{ encoding: 'u16', offset: 4 }])).toEqual([203]);
  });
});

describe('a model of BITFIELD', () => {
  type FieldOp = ['GET' | 'SET' | 'INCRBY', boolean, number, number, bigint];
  const fieldOp: fc.Arbitrary<FieldOp> = fc
    .tuple(
      fc.constantFrom('GET' as const, 'SET' as const, 'INCRBY' as const),
      fc.boolean(),
      fc.integer({ min: 1, max: 64 }),
      fc.nat(80),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    )
    .map(([op, signed, bits, offset, value]) => [
      op,
      signed,
      signed ? bits : Math.min(bits, 63),
      offset,
      value,
    ]);
  const step = fc.tuple(
    fc.constantFrom('WRAP', 'SAT', 'FAIL'),
    fc.array(fieldOp, { maxLength: 4 }),
  );

  it('agrees with BigInt arithmetic', async () => {
    const redis = connect();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 4 }), async (steps) => {
        const key = `bf-model:${run++}`;
        let bits: number[] = [];
        for (const [overflow, ops] of steps) {
          const args: (string | number)[] = ['OVERFLOW', overflow];
          const expected: (string | null)[] = [];
          const writes = ops.filter(([op]) => op !== 'GET');
          for (const [, , width, offset] of writes)
            while (bits.length < (Math.floor((offset + width - 1) / 8) + 1) * 8) bits.push(0);
          for (const [op, signed, width, offset, value] of ops) {
            const type = `${signed ? 'i' : 'u'}${width}`;
            args.push(op, type, offset, ...(op === 'GET' ? [] : [value.toString()]));
            const old = readBits(bits, offset, width, signed);
            if (op === 'GET') {
              expected.push(old.toString());
              continue;
            }
            const wanted =
              op === 'INCRBY' ? old + value : !signed && value < 0n ? value + 2n ** 64n : value;
            const stored = overflowed(wanted, width, signed, overflow, op === 'SET');
            if (stored === undefined) {
              expected.push(null);
              continue;
            }
            bits = writeBits(bits, offset, width, stored);
            expected.push((op === 'SET' ? old : stored).toString());
          }
          expect(await bitfield(redis, key, ...args)).toEqual(expected);
        }
        const value = (await redis.getBuffer(key)) ?? Buffer.alloc(0);
        expect(
          [...value].flatMap((byte) => [7, 6, 5, 4, 3, 2, 1, 0].map((s) => (byte >> s) & 1)),
        ).toEqual(bits);
      }),
      { numRuns: 60 },
    );
  });
});

function readBits(bits: number[], offset: number, width: number, signed: boolean): bigint {
  let field = 0n;
  for (let i = 0; i < width; i++) field = (field << 1n) | BigInt(bits[offset + i] ?? 0);
  return signed ? BigInt.asIntN(width, field) : field;
}

function writeBits(bits: number[], offset: number, width: number, field: bigint): number[] {
  const unsigned = BigInt.asUintN(width, field);
  const next = [...bits];
  for (let i = 0; i < width; i++)
    next[offset + i] = Number((unsigned >> BigInt(width - 1 - i)) & 1n);
  return next;
}

/**
 * What a field of this type stores for `wanted` under `overflow`; undefined: FAIL refuses. A
 * signed SET saturates as Redis's C does: it overflows upward when `max - value`, computed in
 * 64 bits, is below 0 (the SET's increment), which a value near -2^63 wraps into.
 */
function overflowed(
  wanted: bigint,
  width: number,
  signed: boolean,
  overflow: string,
  isSet: boolean,
): bigint | undefined {
  const min = signed ? -(2n ** BigInt(width - 1)) : 0n;
  const max = signed ? 2n ** BigInt(width - 1) - 1n : 2n ** BigInt(width) - 1n;
  if (wanted >= min && wanted <= max) return wanted;
  if (overflow === 'FAIL') return undefined;
  const upward = signed && isSet && width < 64 && BigInt.asIntN(64, max - wanted) < 0n;
  if (overflow === 'SAT') return wanted > max || upward ? max : min;
  return signed ? BigInt.asIntN(width, wanted) : BigInt.asUintN(width, wanted);
}
