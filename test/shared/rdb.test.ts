// The RDB codec (crc64.ts, lzf.ts, rdb-format.ts, rdb-parser.ts) in memory: CRC-64/Jones's check
// value and chunking, LZF's damage checks, RdbWriter's files read back by RdbParser in chunks of
// every size (fast-check), and every flipped byte or cut end of a file reported as KV_CORRUPTION.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '../../dist/shared/crc64.js';
import { lzfDecompress } from '../../dist/shared/lzf.js';
import { encodeRdbLength, RdbWriter } from '../../dist/shared/rdb-format.js';
import { type RdbItem, RdbParser } from '../../dist/shared/rdb-parser.js';

interface Entry {
  key: Uint8Array;
  value: Uint8Array;
  expiresAt: number;
}

/** A file RdbWriter makes of `entries`. */
function writeFile(entries: readonly Entry[]): Buffer {
  const writer = new RdbWriter();
  const pieces = writer.header({ replId: 'a'.repeat(40), replOffset: 12345 });
  for (const e of entries) pieces.push(...writer.entry(e.key, e.value, e.expiresAt));
  pieces.push(...writer.end());
  return Buffer.concat(pieces);
}

/** Everything a parser reads of `file` pushed in pieces of the given sizes (cycled). */
function readFile(file: Buffer, sizes: readonly number[] = [file.length]): RdbItem[] {
  const parser = new RdbParser();
  const items: RdbItem[] = [];
  let at = 0;
  for (let i = 0; at < file.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    parser.push(file.subarray(at, at + size));
    at += size;
    for (let item = parser.next(); item; item = parser.next()) items.push(item);
  }
  parser.finish();
  return items;
}

const bytes = (max: number) =>
  fc.oneof(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ minLength: 60, maxLength: max }));

describe('Crc64', () => {
  it('has CRC-64/Jones check value and is the same over any chunking', () => {
    expect(new Crc64().update(Buffer.from('123456789')).value).toBe(0xe9c6d914c4b8d9can);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (data, cut) => {
        const at = Math.min(cut, data.length);
        const whole = new Crc64().update(data).value;
        expect(new Crc64().update(data, 0, at).update(data, at).value).toBe(whole);
        expect(new Crc64().update(data, 0, at).copy().update(data, at).value).toBe(whole);
      }),
    );
  });
});

/** CRC-64/Jones a bit at a time with BigInt: the definition, independent of the tables. */
function crc64Reference(data: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('Crc64 against its definition', () => {
  it('agrees with a bit-at-a-time CRC over any bytes, lengths and offsets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(16), (data, skip) => {
        const from = Math.min(skip, data.length);
        expect(new Crc64().update(data, from).value).toBe(crc64Reference(data.subarray(from)));
      }),
    );
  });
});

describe('lzfDecompress', () => {
  it('expands literals and overlapping back references', () => {
    // "abc" as a literal run, then a back reference of 6 bytes at distance 3: "abcabcabc".
    expect(lzfDecompress(Uint8Array.of(2, 97, 98, 99, (4 << 5) | 0, 2), 9).toString()).toBe(
      'abcabcabc',
    );
  });

  it('refuses blocks that point before their start, overflow, or come out short', () => {
    const code = { code: 'KV_CORRUPTION' };
    expect(() => lzfDecompress(Uint8Array.of(0, 97, 1 << 5, 5), 4)).toThrow(
      expect.objectContaining(code),
    );
    expect(() => lzfDecompress(Uint8Array.of(2, 97, 98, 99), 2)).toThrow(
      expect.objectContaining(code),
    );
    expect(() => lzfDecompress(Uint8Array.of(2, 97, 98, 99), 5)).toThrow(
      expect.objectContaining(code),
    );
    expect(() => lzfDecompress(Uint8Array.of(5, 97), 6)).toThrow(expect.objectContaining(code));
    expect(() => lzfDecompress(Uint8Array.of(0, 97, 7 << 5), 9)).toThrow(
      expect.objectContaining(code),
    );
  });
});

describe('RdbWriter and RdbParser', () => {
  it('encodes lengths at every width', () => {
    expect([...encodeRdbLength(63)]).toEqual([63]);
    expect([...encodeRdbLength(64)]).toEqual([0x40, 64]);
    expect([...encodeRdbLength(16_383)]).toEqual([0x7f, 0xff]);
    expect([...encodeRdbLength(16_384)]).toEqual([0x80, 0, 0, 0x40, 0]);
    expect([...encodeRdbLength(2 ** 32)]).toEqual([0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('reads back what it wrote, pushed in chunks of any size', () => {
    const entry = fc.record({
      key: bytes(300),
      value: bytes(20_000),
      expiresAt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 45 })),
    });
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 8 }),
        (entries, sizes) => {
          const items = readFile(writeFile(entries), sizes);
          const strings = items.filter((i) => i.kind === 'string');
          expect(strings).toEqual(
            entries.map((e) => ({
              kind: 'string',
              db: 0,
              key: Buffer.from(e.key),
              value: Buffer.from(e.value),
              expiresAt: e.expiresAt,
            })),
          );
          const aux = Object.fromEntries(
            items.flatMap((i) => (i.kind === 'aux' ? [[i.key, i.value.toString()]] : [])),
          );
          expect(aux['repl-id']).toBe('a'.repeat(40));
          expect(aux['repl-offset']).toBe('12345');
          expect(items.at(-1)).toEqual({ kind: 'end', checksum: 'verified' });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reports every flipped byte and every cut end as KV_CORRUPTION', () => {
    const file = writeFile([
      { key: Buffer.from('alpha'), value: Buffer.alloc(100, 7), expiresAt: 1_900_000_000_000 },
      { key: Buffer.from('beta'), value: Buffer.from('x'), expiresAt: 0 },
    ]);
    for (let at = 0; at < file.length; at++) {
      const damaged = Buffer.from(file);
      damaged[at] ^= 0x41;
      expect(() => readFile(damaged), `flip at ${at}`).toThrow(
        expect.objectContaining({ code: 'KV_CORRUPTION' }),
      );
    }
    for (let length = 0; length < file.length; length++) {
      expect(() => readFile(file.subarray(0, length), [1]), `cut at ${length}`).toThrow(
        expect.objectContaining({ code: 'KV_CORRUPTION' }),
      );
    }
  });

  it('names the offset of the damage', () => {
    const file = writeFile([{ key: Buffer.from('k'), value: Buffer.from('v'), expiresAt: 0 }]);
    const damaged = Buffer.from(file);
    damaged[damaged.length - 1] ^= 1;
    expect(() => readFile(damaged)).toThrow(`RDB damaged at byte ${file.length - 8}: checksum`);
    expect(() => readFile(Buffer.from('REDIX0009'))).toThrow(
      'RDB damaged at byte 0: not an RDB file',
    );
    expect(() => readFile(Buffer.from('REDIS0099'))).toThrow('RDB version 99');
  });
});
