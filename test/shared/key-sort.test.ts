// Tests for sorting many keys (src/shared/key-sort.ts) against the plain comparator sort it
// replaces: the same order for every input, equal keys in their given order. The inputs are
// built to reach each path: groups small enough for insertion, large groups that tie on their
// first 5 bytes (sorted again deeper), keys that differ only by trailing zero bytes (a key
// shorter than the bytes packed), repeats, empty keys and a shared prefix.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../dist/shared/key-order.js';
import { sortKeyOrder, sortKeys } from '../../dist/shared/key-sort.js';

/** The reference: key numbers sorted by a comparator, equal keys by number. */
function referenceOrder(keys: readonly Uint8Array[]): number[] {
  return keys.map((_, i) => i).sort((a, b) => compareKeys(keys[a]!, keys[b]!) || a - b);
}

/** Keys laid out as columns in one buffer, with gaps, starting past its first bytes. */
function columns(keys: readonly Uint8Array[]) {
  const bytes = new Uint8Array(7 + keys.reduce((n, k) => n + k.length + 3, 0)).fill(0xee);
  const starts = new Float64Array(keys.length);
  const lengths = new Uint32Array(keys.length);
  let at = 7;
  keys.forEach((k, i) => {
    bytes.set(k, at);
    starts[i] = at;
    lengths[i] = k.length;
    at += k.length + 3;
  });
  return { bytes, starts, lengths };
}

/** A key from a tiny alphabet (0, 1, 0xff), so that keys tie, repeat and are prefixes. */
const tinyKey = fc.uint8Array({ maxLength: 14 }).map((k) => k.map((b) => [0, 1, 0xff][b % 3]!));
/** `prefix` + a tiny key: a shared prefix, as an application's keys have. */
const prefixed = (prefix: string) =>
  tinyKey.map((k) => Uint8Array.from([...Buffer.from(prefix), ...k]));

describe('key sort', () => {
  it('orders like the comparator sort, equal keys by number', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(tinyKey, prefixed('user:'), fc.uint8Array({ maxLength: 12 })), {
          maxLength: 400,
        }),
        (keys) => {
          expect(Array.from(sortKeyOrder(columns(keys), keys.length))).toEqual(
            referenceOrder(keys),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sorts large groups that tie on many bytes, and keys equal but for trailing zeros', () => {
    const keys: Uint8Array[] = [];
    // 40 keys sharing 23 bytes and then differing (several rounds of 5 packed bytes).
    for (let i = 0; i < 40; i++) keys.push(Buffer.from(`${'x'.repeat(23)}${(i * 7) % 40}`));
    // 30 keys equal but for how many zero bytes end them, and 30 repeats of one key.
    for (let i = 0; i < 30; i++) keys.push(Uint8Array.from([9, 9, ...new Array(i % 11).fill(0)]));
    for (let i = 0; i < 30; i++) keys.push(Buffer.from('same'));
    keys.push(new Uint8Array(0), Buffer.from('xx'), new Uint8Array(0));
    // Shuffled in a fixed way, so that the order given is not already sorted.
    const shuffled = keys.map((k, i) => ({ k, r: (i * 7919) % 101 })).sort((a, b) => a.r - b.r);
    const input = shuffled.map((s) => s.k);
    expect(Array.from(sortKeyOrder(columns(input), input.length))).toEqual(referenceOrder(input));
  });

  it('sorts a segment-sized batch of application keys', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) =>
      Buffer.from(`key:${String((i * 48_271) % 30_011).padStart(12, '0')}`),
    );
    expect(Array.from(sortKeyOrder(columns(keys), keys.length))).toEqual(referenceOrder(keys));
  });

  it('sortKeys returns the keys themselves in order, as views of one copy', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(tinyKey, prefixed('k')), { maxLength: 100 }), (keys) => {
        const sorted = sortKeys(keys);
        expect(sorted.map((k) => Buffer.from(k).toString('hex'))).toEqual(
          referenceOrder(keys).map((i) => Buffer.from(keys[i]!).toString('hex')),
        );
      }),
    );
  });
});
