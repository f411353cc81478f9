// Tests the daemon's bit commands with real clients (ioredis, node-redis): SETBIT and GETBIT
// (offset limits, kept expiry, concurrent setters), BITCOUNT and BITPOS (BYTE and BIT ranges,
// negative positions), BITOP, with Redis 7.2's replies and error texts, and a fast-check model
// test of SETRANGE, SETBIT, GETRANGE, BITCOUNT, BITPOS and BITOP against Buffers.
// BITFIELD and BITFIELD_RO: shared.server.bitfield.test.ts.

import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const connect = (port?: number): Redis => shared.connect(port === undefined ? {} : { port });

const BAD_OFFSET = 'ERR bit offset is not an integer or out of range';

describe('SETBIT and GETBIT', () => {
  it('set and read single bits, most significant bit first, growing with zero bytes', async () => {
    const redis = connect();
    expect(await redis.setbit('b', 7, 1)).toBe(0);
    expect(await redis.getBuffer('b')).toEqual(Buffer.from([0x01]));
    expect(await redis.setbit('b', 7, 1)).toBe(1);
    expect(await redis.setbit('b', 0, 1)).toBe(0);
    expect(await redis.setbit('b', 7, 0)).toBe(1);
    expect(await redis.getBuffer('b')).toEqual(Buffer.from([0x80]));
    expect(await redis.setbit('b', 20, 1)).toBe(0);
    expect(await redis.getBuffer('b')).toEqual(Buffer.from([0x80, 0x00, 0x08]));
    expect(await redis.getbit('b', 0)).toBe(1);
    expect(await redis.getbit('b', 1)).toBe(0);
    expect(await redis.getbit('b', 20)).toBe(1);
    expect(await redis.getbit('b', 10_000)).toBe(0);
    expect(await redis.getbit('b-missing', 3)).toBe(0);
    expect(await redis.exists('b-missing')).toBe(0);
  });

  it('keep the expiry and refuse bad offsets and bits with Redis errors', async () => {
    const redis = connect();
    await redis.set('bt', '\x00', 'EX', 100);
    expect(await redis.setbit('bt', 3, 1)).toBe(0);
    expect(await redis.ttl('bt')).toBeGreaterThan(98);
    for (const offset of ['-1', 'abc', '1.5', '#1', '4294967296', '9223372036854775808']) {
      await expect(redis.call('SETBIT', 'bt', offset, '1')).rejects.toThrow(BAD_OFFSET);
      await expect(redis.call('GETBIT', 'bt', offset)).rejects.toThrow(BAD_OFFSET);
    }
    for (const bit of ['2', '-1', 'on', '']) {
      await expect(redis.call('SETBIT', 'bt', '1', bit)).rejects.toThrow(
        /^ERR bit is not an integer or out of range$/,
      );
    }
    await expect(redis.call('GETBIT', 'bt')).rejects.toThrow(
      "ERR wrong number of arguments for 'getbit' command",
    );
    expect(await redis.getBuffer('bt')).toEqual(Buffer.from([0x10]));
  });

  it('bound offsets by proto-max-bulk-len, and the value by maxValueBytes', async () => {
    const small = await startTestServer({
      limits: { maxBulkBytes: 4096 },
      store: { maxValueBytes: 1024 },
    });
    shared.afterTest(() => small.close());
    const redis = connect(small.port);
    expect(await redis.setbit('big', 1024 * 8 - 1, 1)).toBe(0);
    await expect(redis.setbit('big', 1024 * 8, 1)).rejects.toThrow(/^KV_VALUE_TOO_LARGE /);
    await expect(redis.setbit('big', 4096 * 8, 1)).rejects.toThrow(BAD_OFFSET);
    expect(await redis.getbit('big', 4096 * 8 - 1)).toBe(0);
    await expect(redis.getbit('big', 4096 * 8)).rejects.toThrow(BAD_OFFSET);
    expect(await redis.strlen('big')).toBe(1024);
  });

  it('see the earlier writes of their pipeline and apply in order', async () => {
    const redis = connect();
    await redis.set('b-pl', 'z');
    const replies = await redis
      .pipeline()
      .set('b-pl', '\x00')
      .setbit('b-pl', 0, 1)
      .call('BITFIELD', 'b-pl', 'OVERFLOW', 'FAIL', 'INCRBY', 'u1', '0', '1')
      .bitop('NOT', 'b-pl2', 'b-pl')
      .set('b-pl', 'last')
      .exec();
    expect(replies).toEqual(['OK', 0, [null], 1, 'OK'].map((reply) => [null, reply]));
    expect(await redis.getBuffer('b-pl2')).toEqual(Buffer.from([0x7f]));
    expect(await redis.get('b-pl')).toBe('last');
  });

  it('lose no bit set by concurrent clients', async () => {
    const clients = Array.from({ length: 4 }, () => connect());
    const replies = await Promise.all(
      clients.map(async (client, c) => {
        const pipeline = client.pipeline();
        for (let i = c; i < 400; i += 4) pipeline.setbit('b-shared', i, 1);
        return (await pipeline.exec()) ?? [];
      }),
    );
    expect(replies.flat()).toEqual(Array.from({ length: 400 }, () => [null, 0]));
    expect(await clients[0]!.getBuffer('b-shared')).toEqual(Buffer.alloc(50, 0xff));
  });
});

describe('BITCOUNT and BITPOS', () => {
  it('BITCOUNT counts set bits in a byte or bit range', async () => {
    const redis = connect();
    await redis.set('bc', 'foobar');
    const cases: [string[], number][] = [
      [[], 26],
      [['0', '0'], 4],
      [['1', '1'], 6],
      [['1', '1', 'BYTE'], 6],
      [['5', '30', 'BIT'], 17],
      [['-2', '-1'], 7],
      [['-100', '100'], 26],
      [['-1', '-2'], 0], // both negative and crossed
      [['-100', '-200'], 0],
      [['4', '2'], 0],
      [['0', '-1', 'bit'], 26],
      [['-3', '-1', 'BIT'], 1],
    ];
    for (const [range, count] of cases) {
      expect(await redis.call('BITCOUNT', 'bc', ...range)).toBe(count);
    }
    expect(await redis.bitcount('bc-missing')).toBe(0);
    expect(await redis.bitcount('bc-missing', 0, -1)).toBe(0);
    for (const range of [['0'], ['0', '1', 'WORD'], ['0', '1', 'BIT', 'x']]) {
      await expect(redis.call('BITCOUNT', 'bc', ...range)).rejects.toThrow(/^ERR syntax error$/);
    }
    await expect(redis.call('BITCOUNT', 'bc', '0', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
  });

  it('BITPOS finds the first 0 or 1, the value counting as followed by zeros', async () => {
    const redis = connect();
    const cases: [Buffer, string[], number][] = [
      [Buffer.from([0xff, 0xf0, 0x00]), ['0'], 12],
      [Buffer.from([0x00, 0xff, 0xf0]), ['1', '0'], 8],
      [Buffer.from([0x00, 0xff, 0xf0]), ['1', '2'], 16],
      [Buffer.from([0x00, 0xff, 0xf0]), ['1', '2', '-1', 'BYTE'], 16],
      [Buffer.from([0x00, 0xff, 0xf0]), ['1', '7', '15', 'BIT'], 8],
      [Buffer.from([0x00, 0x00, 0x00]), ['1'], -1],
      [Buffer.from([0x00, 0x00, 0x00]), ['1', '7', '-3', 'BIT'], -1],
      [Buffer.from([0xff, 0xff]), ['0'], 16], // past the end: the zeros that follow
      [Buffer.from([0xff, 0xff]), ['0', '1'], 16],
      [Buffer.from([0xff, 0xff]), ['0', '0', '-1'], -1], // an end given: no zero inside it
      [Buffer.from([0xff, 0xfe]), ['0', '3', '14', 'bit'], -1],
      [Buffer.from([0xff, 0xfe]), ['0', '3', '15', 'bit'], 15],
      [Buffer.from([0x0f]), ['1', '-100', '-1'], 4],
      [Buffer.from([0x0f]), ['1', '5', '3'], -1], // empty range
      [Buffer.alloc(0), ['0'], -1], // an empty value has no bits at all
    ];
    for (const [value, args, position] of cases) {
      await redis.set('bp', value);
      expect(await redis.call('BITPOS', 'bp', ...args)).toBe(position);
    }
    expect(await redis.bitpos('bp-missing', 0)).toBe(0);
    expect(await redis.bitpos('bp-missing', 1)).toBe(-1);
    await expect(redis.call('BITPOS', 'bp', '2')).rejects.toThrow(
      'ERR The bit argument must be 1 or 0.',
    );
    await expect(redis.call('BITPOS', 'bp', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    for (const args of [
      ['1', '0', '1', 'NIBBLE'],
      ['1', '0', '1', 'BIT', 'x'],
    ]) {
      await expect(redis.call('BITPOS', 'bp', ...args)).rejects.toThrow(/^ERR syntax error$/);
    }
  });
});

describe('BITOP', () => {
  it('combines sources of any length into the destination, or deletes it', async () => {
    const redis = connect();
    await redis.set('s1', Buffer.from([0b1100, 0xff]));
    await redis.set('s2', Buffer.from([0b1010]));
    await redis.set('dest', 'old', 'EX', 100);
    expect(await redis.bitop('AND', 'dest', 's1', 's2', 's-missing')).toBe(2);
    expect(await redis.getBuffer('dest')).toEqual(Buffer.from([0, 0]));
    expect(await redis.ttl('dest')).toBe(-1);
    expect(await redis.bitop('or', 'dest', 's1', 's2')).toBe(2);
    expect(await redis.getBuffer('dest')).toEqual(Buffer.from([0b1110, 0xff]));
    expect(await redis.bitop('XOR', 'dest', 's1', 's2', 's1')).toBe(2);
    expect(await redis.getBuffer('dest')).toEqual(Buffer.from([0b1010, 0]));
    expect(await redis.bitop('NOT', 'dest', 'dest')).toBe(2);
    expect(await redis.getBuffer('dest')).toEqual(Buffer.from([0xf5, 0xff]));
    expect(await redis.bitop('AND', 'dest', 's-missing')).toBe(0);
    expect(await redis.exists('dest')).toBe(0);
    await expect(redis.call('BITOP', 'NOT', 'dest', 's1', 's2')).rejects.toThrow(
      'ERR BITOP NOT must be called with a single source key.',
    );
    await expect(redis.call('BITOP', 'NAND', 'dest', 's1')).rejects.toThrow(/^ERR syntax error$/);
    await expect(redis.call('BITOP', 'AND', 'dest')).rejects.toThrow(
      "ERR wrong number of arguments for 'bitop' command",
    );
  });

  it('works through node-redis', async () => {
    const client = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    await client.connect();
    shared.afterTest(() => client.destroy());
    expect(await client.setBit('nr-bits', 9, 1)).toBe(0);
    expect(await client.getBit('nr-bits', 9)).toBe(1);
    expect(await client.bitCount('nr-bits', { start: 9, end: 9, mode: 'BIT' })).toBe(1);
    expect(await client.bitPos('nr-bits', 1)).toBe(9);
    expect(await client.bitOp('NOT', 'nr-not', 'nr-bits')).toBe(2);
    expect(await client.bitCount('nr-not')).toBe(15);
  });
});

describe('a model of the bit and range commands', () => {
  type Op =
    | { kind: 'setrange'; offset: number; bytes: Uint8Array }
    | { kind: 'setbit'; offset: number; bit: number }
    | { kind: 'check'; start: number; end: number; unit: 'BYTE' | 'BIT'; bit: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('setrange' as const),
      offset: fc.nat(24),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
    }),
    fc.record({ kind: fc.constant('setbit' as const), offset: fc.nat(240), bit: fc.nat(1) }),
    fc.record({
      kind: fc.constant('check' as const),
      start: fc.integer({ min: -40, max: 40 }),
      end: fc.integer({ min: -40, max: 40 }),
      unit: fc.constantFrom('BYTE' as const, 'BIT' as const),
      bit: fc.nat(1),
    }),
  );

  it('agrees with Buffers', async () => {
    const redis = connect();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const key = `model:${run++}`;
        let model: Buffer = Buffer.alloc(0);
        for (const o of ops) {
          if (o.kind === 'setrange') {
            model = grow(model, o.offset + o.bytes.length);
            model.set(o.bytes, o.offset);
            expect(await redis.setrange(key, o.offset, Buffer.from(o.bytes))).toBe(model.length);
          } else if (o.kind === 'setbit') {
            model = grow(model, Math.floor(o.offset / 8) + 1);
            const old = bitOf(model, o.offset);
            const mask = 0x80 >> (o.offset % 8);
            model[Math.floor(o.offset / 8)] =
              (model[Math.floor(o.offset / 8)]! & ~mask) | (o.bit ? mask : 0);
            expect(await redis.setbit(key, o.offset, o.bit)).toBe(old);
          } else {
            await checkRanges(redis, key, model, o);
          }
        }
        const other = Buffer.from([0x5a, 0xc3, 0x0f]);
        await redis.set(`${key}:o`, other);
        expect(await redis.bitop('XOR', `${key}:x`, key, `${key}:o`)).toBe(
          Math.max(model.length, 3),
        );
        const xor = grow(Buffer.from(model), 3).map((b, i) => b ^ (other[i] ?? 0));
        expect(await redis.getBuffer(`${key}:x`)).toEqual(Buffer.from(xor));
      }),
      { numRuns: 40 },
    );
  });
});

async function checkRanges(
  redis: Redis,
  key: string,
  model: Buffer,
  o: { start: number; end: number; unit: 'BYTE' | 'BIT'; bit: number },
): Promise<void> {
  const { start, end, unit, bit } = o;
  expect(await redis.getrangeBuffer(key, start, end)).toEqual(modelGetrange(model, start, end));
  const bits = Array.from({ length: model.length * 8 }, (_, i) => bitOf(model, i));
  const range = modelBitRange(model.length, start, end, unit);
  const inRange = range ? bits.slice(range[0], range[1] + 1) : [];
  const crossed = start < 0 && end < 0 && start > end;
  const count = crossed ? 0 : inRange.filter((b) => b === 1).length;
  expect(await redis.call('BITCOUNT', key, String(start), String(end), unit)).toBe(count);
  // BITPOS with start and end given: -1 when the range has no such bit.
  const found = inRange.indexOf(bit);
  const position = model.length === 0 ? (bit ? -1 : 0) : found === -1 ? -1 : range![0] + found;
  expect(await redis.call('BITPOS', key, String(bit), String(start), String(end), unit)).toBe(
    position,
  );
}

function grow(buffer: Buffer, length: number): Buffer {
  if (buffer.length >= length) return buffer;
  const grown = Buffer.alloc(length);
  buffer.copy(grown);
  return grown;
}

function bitOf(buffer: Uint8Array, offset: number): number {
  return ((buffer[Math.floor(offset / 8)] ?? 0) >> (7 - (offset % 8))) & 1;
}

/** GETRANGE as Redis 7.2 documents it, written independently of the server's code. */
function modelGetrange(model: Buffer, start: number, end: number): Buffer {
  const n = model.length;
  if (n === 0 || (start < 0 && end < 0 && start > end)) return Buffer.alloc(0);
  const s = Math.max(0, start < 0 ? n + start : start);
  const e = Math.min(n - 1, Math.max(0, end < 0 ? n + end : end));
  return s > e ? Buffer.alloc(0) : model.subarray(s, e + 1);
}

/** The bits a BITCOUNT/BITPOS range covers: clamped, negative from the end, bytes or bits. */
function modelBitRange(
  bytes: number,
  start: number,
  end: number,
  unit: 'BYTE' | 'BIT',
): [number, number] | undefined {
  const total = unit === 'BIT' ? bytes * 8 : bytes;
  const s = Math.max(0, start < 0 ? total + start : start);
  const e = Math.min(total - 1, Math.max(0, end < 0 ? total + end : end));
  if (s > e) return undefined;
  return unit === 'BIT' ? [s, e] : [s * 8, e * 8 + 7];
}
