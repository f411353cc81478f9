// Tests for LEB128 varints (src/shared/varint.ts): round trips at every width, the shortest
// encoding only, and the typed failures for truncated, overlong and too-large input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_U32,
  MAX_U53,
  readVarint32,
  readVarint53,
  varintLength,
  writeVarint,
} from '../../dist/shared/varint.js';

function encode(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  expect(writeVarint(out, 0, value)).toBe(out.length);
  return out;
}

describe('varint', () => {
  it('pins the encoding of a few values', () => {
    const hex = (v: number) => Buffer.from(encode(v)).toString('hex');
    expect(hex(0)).toBe('00');
    expect(hex(127)).toBe('7f');
    expect(hex(128)).toBe('8001');
    expect(hex(300)).toBe('ac02');
    expect(hex(MAX_U32)).toBe('ffffffff0f');
    expect(hex(MAX_U53)).toBe('ffffffffffffff0f');
  });

  it('round-trips every u53, reading exactly the bytes written', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 300 }), fc.maxSafeNat()), fc.nat({ max: 3 }), (v, pad) => {
        const bytes = new Uint8Array(varintLength(v) + pad + 2);
        const end = writeVarint(bytes, 1, v);
        const cursor = { pos: 1 };
        expect(readVarint53(bytes, cursor, bytes.length)).toBe(v);
        expect(cursor.pos).toBe(end);
        const c32 = { pos: 1 };
        expect(readVarint32(bytes, c32, bytes.length)).toBe(v <= MAX_U32 ? v : 'too-large');
      }),
    );
  });

  it('returns typed failures and leaves the cursor where it was', () => {
    const read53 = (hex: string, end?: number) => {
      const bytes = Buffer.from(hex, 'hex');
      const cursor = { pos: 0 };
      const result = readVarint53(bytes, cursor, end ?? bytes.length);
      if (typeof result === 'string') expect(cursor.pos).toBe(0);
      return result;
    };
    expect(read53('')).toBe('truncated');
    expect(read53('80')).toBe('truncated');
    expect(read53('ac02', 1)).toBe('truncated');
    expect(read53('8000')).toBe('overlong');
    expect(read53('ff8000')).toBe('overlong');
    expect(read53('8080808080808010')).toBe('too-large'); // 2^53
    expect(read53('ffffffffffffffff01')).toBe('too-large'); // nine bytes
    const c = { pos: 0 };
    expect(readVarint32(Buffer.from('8080808010', 'hex'), c, 5)).toBe('too-large'); // 2^32
    expect(readVarint32(Buffer.from('ffffffff7f', 'hex'), c, 5)).toBe('too-large');
  });

  it('refuses to encode what it cannot decode', () => {
    const out = new Uint8Array(10);
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN]) {
      expect(() => writeVarint(out, 0, bad)).toThrow(RangeError);
    }
  });
});
