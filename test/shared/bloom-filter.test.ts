// Tests for the bloom filter block (src/shared/bloom-filter.ts): no false negatives, the
// false-positive rate at 10 bits a key on 100,000 absent keys within a loose bound, the block
// header (hash id, probes), and a filter of an unknown hash or probe count answering "maybe".

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BloomFilterBuilder,
  DEFAULT_BITS_PER_KEY,
  decodeBloomFilter,
  FILTER_HASH_MURMUR3_PAIR,
  probesFor,
} from '../../dist/shared/bloom-filter.js';

const utf8 = new TextEncoder();

function build(keys: readonly Uint8Array[], bitsPerKey = DEFAULT_BITS_PER_KEY): Uint8Array {
  const builder = new BloomFilterBuilder(bitsPerKey);
  for (const k of keys) builder.add(k);
  return builder.finish();
}

describe('bloom filter', () => {
  it('never says absent for a key it holds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 300 }),
        fc.constantFrom(1, 4, 10, 20),
        (keys, bitsPerKey) => {
          const filter = decodeBloomFilter(build(keys, bitsPerKey))!;
          expect(filter.usable).toBe(true);
          for (const k of keys) expect(filter.mayContain(k)).toBe(true);
        },
      ),
    );
  });

  it('has about 1% false positives at 10 bits a key, measured on 100,000 absent keys', () => {
    const n = 20_000;
    const key = (i: number) => utf8.encode(`key:${String(i).padStart(12, '0')}`);
    const present = Array.from({ length: n }, (_, i) => key(i));
    const raw = build(present);
    const filter = decodeBloomFilter(raw)!;
    expect(filter.probes).toBe(7);
    expect(filter.bits).toBe(n * 10);
    let positives = 0;
    for (let i = n; i < n + 100_000; i++) if (filter.mayContain(key(i))) positives++;
    // Theory: (1 - e^(-7/10))^7 ≈ 0.82%. Bounds loose enough for any sound 64-bit-ish hash.
    expect(positives / 100_000).toBeLessThan(0.02);
    expect(positives / 100_000).toBeGreaterThan(0.002);
  });

  it('writes its hash id and probe count, and sizes the bit array by the key count', () => {
    expect(probesFor(10)).toBe(7);
    expect(probesFor(1)).toBe(1);
    expect(probesFor(100)).toBe(30);
    const raw = build([utf8.encode('a'), utf8.encode('b')]);
    expect(raw[0]).toBe(FILTER_HASH_MURMUR3_PAIR);
    expect(raw[1]).toBe(7);
    expect(raw.length).toBe(2 + 64 / 8); // the 64-bit minimum
    expect(build([], 10).length).toBe(2 + 8);
  });

  it('treats a filter of an unknown hash or probe count as no filter, and a stub as invalid', () => {
    const keys = Array.from({ length: 100 }, (_, i) => utf8.encode(`k${i}`));
    const raw = build(keys);
    for (const [at, value] of [
      [0, 2],
      [1, 0],
      [1, 31],
    ] as const) {
      const altered = raw.slice();
      altered[at] = value;
      const filter = decodeBloomFilter(altered)!;
      expect(filter.usable).toBe(false);
      for (let i = 0; i < 200; i++) expect(filter.mayContain(utf8.encode(`absent${i}`))).toBe(true);
    }
    expect(decodeBloomFilter(raw.subarray(0, 1))).toBeUndefined();
    expect(decodeBloomFilter(raw.subarray(0, 2))!.usable).toBe(false);
  });
});
