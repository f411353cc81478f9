// Tests for key handling (src/shared/key-bytes.ts): a string key and its UTF-8 bytes must hash
// and compare as the same key, for every string JavaScript can hold (lone surrogates included).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byteLength,
  hashBytes,
  hashKey,
  KeyScratch,
  keyEquals,
  toBytes,
} from '../../dist/shared/key-bytes.js';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Any UTF-16 code unit, so lone (unpaired) surrogates appear as well as pairs. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Strings of every shape: ASCII, whole code points (surrogate pairs), raw code units. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: codeUnit, maxLength: 40 }),
);

describe('hashKey / hashBytes', () => {
  it('hashes a string exactly as its UTF-8 bytes (property)', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(hashKey(s)).toBe(hashBytes(utf8(s)));
        expect(hashKey(utf8(s))).toBe(hashKey(s));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes the named edge cases as their UTF-8 bytes', () => {
    for (const s of ['', 'a', 'é', '€', '😀', '\ud83d', '\ude00', 'a\ud800b', '\u0080', '\u007f']) {
      expect(hashKey(s), JSON.stringify(s)).toBe(hashBytes(utf8(s)));
    }
  });

  it('hashes a byte range as that range alone', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(), (b, s1, s2) => {
        const start = s1 % (b.length + 1);
        const end = start + (s2 % (b.length - start + 1));
        expect(hashBytes(b, start, end)).toBe(hashBytes(b.slice(start, end)));
      }),
    );
  });

  it('returns an unsigned 32-bit integer and tells close keys apart', () => {
    const hashes = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const h = hashKey(`key${i}`);
      expect(h >>> 0).toBe(h);
      hashes.add(h);
    }
    expect(hashes.size).toBeGreaterThan(9_990); // 32-bit hashes: a handful of collisions at most
  });
});

describe('toBytes / byteLength', () => {
  it('agree with Buffer for any string; bytes pass through untouched', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(Buffer.from(toBytes(s)).equals(utf8(s))).toBe(true);
        expect(byteLength(s)).toBe(utf8(s).length);
      }),
    );
    const b = new Uint8Array([1, 2, 3]);
    expect(toBytes(b)).toBe(b);
    expect(byteLength(b)).toBe(3);
  });
});

describe('keyEquals', () => {
  /** A stored key (some bytes placed at an offset among other bytes) and a key to compare. */
  const caseArb = fc
    .record({
      key: anyString,
      other: anyString,
      relation: fc.constantFrom('same', 'other', 'prefix', 'extended', 'one-byte-changed'),
      pad: fc.nat(8),
      filler: fc.integer({ min: 0, max: 255 }),
      pick: fc.nat(),
    })
    .map(({ key, other, relation, pad, filler, pick }) => {
      const k = utf8(key);
      let stored: Buffer;
      if (relation === 'same') stored = k;
      else if (relation === 'other') stored = utf8(other);
      else if (relation === 'prefix') stored = k.subarray(0, pick % (k.length + 1));
      else if (relation === 'extended') stored = Buffer.concat([k, utf8(other), Buffer.of(pick)]);
      else {
        stored = Buffer.from(k);
        if (stored.length > 0) stored[pick % stored.length] ^= 1 << (pick % 8);
      }
      const region = Buffer.alloc(pad + stored.length + pad, filler);
      stored.copy(region, pad);
      return { key, region, at: pad, length: stored.length, stored };
    });

  it('matches Buffer.equals for string and byte keys (property)', () => {
    fc.assert(
      fc.property(caseArb, ({ key, region, at, length, stored }) => {
        const expected = utf8(key).equals(stored);
        expect(keyEquals(region, at, length, key)).toBe(expected);
        expect(keyEquals(region, at, length, utf8(key))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('KeyScratch hashes like hashKey and compares like keyEquals, one scratch reused (property)', () => {
    const scratch = new KeyScratch(); // one for every case: each hash replaces the key held
    const long = fc.string({ unit: 'binary-ascii', minLength: 500, maxLength: 600 });
    fc.assert(
      fc.property(caseArb, long, fc.boolean(), ({ key, region, at, stored }, big, asLong) => {
        const k = asLong ? big : key; // past 512 chars it is compared in place instead
        const s = asLong ? utf8(big) : stored;
        const r = asLong ? s : region;
        const a = asLong ? 0 : at;
        const expected = utf8(k).equals(s);
        expect(scratch.hash(k)).toBe(hashKey(k));
        expect(scratch.equals(r, a, s.length, k)).toBe(expected);
        expect(scratch.hash(utf8(k))).toBe(hashKey(k));
        expect(scratch.equals(r, a, s.length, utf8(k))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('KeyScratch holds only the key hashed last', () => {
    const scratch = new KeyScratch();
    const one = utf8('key:1');
    const two = utf8('key:2');
    scratch.hash('key:1');
    expect(scratch.equals(one, 0, one.length, 'key:1')).toBe(true);
    scratch.hash('key:2');
    expect(scratch.equals(one, 0, one.length, 'key:2')).toBe(false);
    expect(scratch.equals(two, 0, two.length, 'key:2')).toBe(true);
    // A byte key is not held: the string held before must not answer for it.
    scratch.hash(utf8('key:1'));
    expect(scratch.equals(one, 0, one.length, utf8('key:1'))).toBe(true);
    expect(scratch.equals(two, 0, two.length, utf8('key:1'))).toBe(false);
    // Nor is a non-ASCII string, which is hashed as its UTF-8 bytes.
    const word = utf8('ключ');
    expect(scratch.hash('ключ')).toBe(hashKey('ключ'));
    expect(scratch.equals(word, 0, word.length, 'ключ')).toBe(true);
    expect(scratch.equals(two, 0, two.length, 'ключ')).toBe(false);
  });

  it('handles empty keys', () => {
    const region = Buffer.from('abc');
    expect(keyEquals(region, 1, 0, '')).toBe(true);
    expect(keyEquals(region, 1, 0, new Uint8Array(0))).toBe(true);
    expect(keyEquals(region, 1, 1, '')).toBe(false);
    expect(keyEquals(region, 1, 0, 'b')).toBe(false);
    expect(keyEquals(region, 1, 0, Buffer.from('b'))).toBe(false);
  });

  it('compares only the stored range, not the bytes after it', () => {
    const region = Buffer.from('keyX');
    expect(keyEquals(region, 0, 3, 'key')).toBe(true);
    expect(keyEquals(region, 0, 3, 'keyX')).toBe(false);
    expect(keyEquals(region, 0, 4, 'key')).toBe(false);
  });

  it('treats a lone surrogate as the replacement character U+FFFD, as UTF-8 encoding does', () => {
    // Documents a property of the key space: both strings encode to EF BF BD.
    const stored = utf8('\ufffd');
    expect(hex(stored)).toBe('efbfbd');
    expect(keyEquals(stored, 0, stored.length, '\ud800')).toBe(true);
    expect(hashKey('\ud800')).toBe(hashKey('\ufffd'));
  });
});

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
