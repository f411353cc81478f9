// Tests for CRC32C (src/shared/crc32c.ts): published check values, incremental seeding, and each
// implementation (the CPU's instruction through kvd's addon, slicing-by-8 in JS) against a
// plain bitwise reference over random lengths and offsets.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cJs, crc32cUsesHardware } from '../../dist/shared/crc32c.js';
import { fileMapsStatus, hardwareCrc32c } from '../../dist/shared/file-map.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bit-at-a-time CRC32C (reflected Castagnoli polynomial): slow, obviously right, no tables. */
function referenceCrc32c(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  let crc = ~seed >>> 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('matches the published check values', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283); // the standard CRC check string
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) appendix B.4 test vectors.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('the reference agrees with the check values too', () => {
    expect(referenceCrc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(referenceCrc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });

  it('returns an unsigned 32-bit integer', () => {
    const c = crc32c(ascii('123456789')); // 0xE3069283: top bit set
    expect(c).toBeGreaterThan(0x7fff_ffff); // would be negative without the final >>> 0
    expect(Number.isInteger(c)).toBe(true);
  });

  it('covers exactly bytes [start, end)', () => {
    const b = ascii('xx123456789yy');
    expect(crc32c(b, 2, 11)).toBe(0xe3069283);
    expect(crc32c(b, 5, 5)).toBe(0);
  });

  it('seeding with the checksum so far equals the one-shot checksum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (b, s1, s2) => {
        const cuts = [s1 % (b.length + 1), s2 % (b.length + 1)].sort((x, y) => x - y);
        const a = cuts[0]!;
        const c = cuts[1]!;
        const first = crc32c(b, 0, a);
        const second = crc32c(b, a, c, first);
        expect(crc32c(b, c, b.length, second)).toBe(crc32c(b));
      }),
    );
  });

  it('slicing-by-8 equals the bitwise reference for any length and offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (b, s1, s2, seed) => {
          const start = s1 % (b.length + 1);
          const end = start + (s2 % (b.length - start + 1));
          expect(crc32c(b, start, end, seed)).toBe(referenceCrc32c(b, start, end, seed));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('works on a view into a larger buffer (non-zero byteOffset)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(15), (b, pad) => {
        const big = new Uint8Array(pad + b.length + 3).fill(0x5a);
        big.set(b, pad);
        const view = big.subarray(pad, pad + b.length);
        expect(crc32c(view)).toBe(referenceCrc32c(b));
      }),
    );
  });

  it('uses the CPU instruction wherever the addon is built on x86-64', () => {
    // The addon exports it on every x86-64 CPU with SSE 4.2 (all since 2008): if this fails
    // there, every checksum silently fell back to JS.
    const addonBuilt =
      !fileMapsStatus.includes('not built') && !fileMapsStatus.startsWith('cannot');
    const jsOnly = process.env.KVD_CRC_JS_ONLY === '1';
    expect(crc32cUsesHardware).toBe(process.arch === 'x64' && addonBuilt && !jsOnly);
  });

  it('each implementation equals the bitwise reference for any length, offset and seed', () => {
    const implementations: [string, typeof crc32cJs][] = [['js', crc32cJs]];
    if (hardwareCrc32c !== undefined) {
      const hw = hardwareCrc32c;
      implementations.push(['hardware', (b, s = 0, e = b.length, seed = 0) => hw(b, s, e, seed)]);
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 700 }),
        fc.nat(),
        fc.nat(),
        fc.nat({ max: 0xffff_ffff }),
        fc.nat(15),
        (b, s1, s2, seed, pad) => {
          // Inside a larger buffer, so the view's byteOffset is not 0 and bytes lie on both sides.
          const big = new Uint8Array(pad + b.length + 9).fill(0xa5);
          big.set(b, pad);
          const view = big.subarray(pad, pad + b.length);
          const start = s1 % (b.length + 1);
          const end = start + (s2 % (b.length - start + 1));
          const expected = referenceCrc32c(b, start, end, seed);
          for (const [, impl] of implementations)
            expect(impl(view, start, end, seed)).toBe(expected);
          expect(crc32c(view, start, end, seed)).toBe(expected);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('the CPU instruction refuses a range outside its array, and anything but a Uint8Array', () => {
    if (hardwareCrc32c === undefined) return; // only where it exists (asserted above on x86-64)
    const hw = hardwareCrc32c;
    const b = new Uint8Array(64);
    expect(() => hw(b, 0, 65, 0)).toThrow(expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' }));
    expect(() => hw(b, 10, 9, 0)).toThrow(RangeError);
    expect(() => hw(b, -1, 9, 0)).toThrow(RangeError);
    expect(() => hw(new Uint16Array(32) as unknown as Uint8Array, 0, 8, 0)).toThrow(RangeError);
    const detached = new Uint8Array(new ArrayBuffer(64));
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => hw(detached, 0, 8, 0)).toThrow(RangeError);
    expect(hw(b, 64, 64, 7)).toBe(7);
  });
});
