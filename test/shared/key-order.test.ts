// Tests for key order (src/shared/key-order.ts): bytewise comparison against Node's own, and
// fence-post separators that lie between their two keys and are never longer than the first.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, sharedPrefixLength, shortestSeparator } from '../../dist/shared/key-order.js';

const keyArb = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((k) => k.map((b) => (b & 1 ? 0xff : b))),
);

describe('key order', () => {
  it('compares bytewise, as Buffer.compare does', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Buffer.compare(a, b));
        const p = sharedPrefixLength(a, b);
        expect(Buffer.compare(a.subarray(0, p), b.subarray(0, p))).toBe(0);
        if (p < a.length && p < b.length) expect(a[p]).not.toBe(b[p]);
      }),
    );
  });

  it('a separator s of a < b has a <= s < b and is no longer than a', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (x, y) => {
        const c = Buffer.compare(x, y);
        fc.pre(c !== 0);
        const [a, b] = c < 0 ? [x, y] : [y, x];
        const s = shortestSeparator(a, b);
        expect(Buffer.compare(a, s)).toBeLessThanOrEqual(0);
        expect(Buffer.compare(s, b)).toBeLessThan(0);
        expect(s.length).toBeLessThanOrEqual(a.length);
      }),
    );
  });

  it('shortens where it can', () => {
    const sep = (a: string, b: string) =>
      Buffer.from(shortestSeparator(Buffer.from(a), Buffer.from(b))).toString();
    expect(sep('user:0042:name', 'user:0097:id')).toBe('user:005');
    expect(sep('user:0042:name', 'user:0043')).toBe('user:0042;');
    expect(sep('abc', 'abcd')).toBe('abc');
    expect(sep('ab', 'b')).toBe('ab');
  });
});
