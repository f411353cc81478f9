// Tests the two pure parts of the daemon's SCAN and KEYS: a glob pattern's literal prefix (the
// bytes every matching key starts with, escapes resolved as Redis's stringmatchlen does; checked
// against globMatch by fast-check) and SCAN's cursor table (continue after a key, the previous
// cursor replayed, unknown, ended, dropped and idle cursors, Redis's 64-bit cursor syntax).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globLiteralPrefix, globMatch } from '../../dist/main/server/glob.js';
import {
  MAX_SCAN_KEY_BYTES,
  MAX_SCANS,
  parseCursor,
  SCAN_IDLE_MS,
  ScanCursors,
  type ScanPosition,
} from '../../dist/main/server/scan-cursors.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const prefixOf = (pattern: string): string => globLiteralPrefix(latin1(pattern)).toString('latin1');

describe('globLiteralPrefix', () => {
  it('stops at the first unescaped *, ? or [ and resolves \\ escapes', () => {
    const cases: [pattern: string, prefix: string][] = [
      ['user:*', 'user:'],
      ['*', ''],
      ['', ''],
      ['?x', ''],
      ['[ab]x', ''],
      ['exact', 'exact'],
      ['a?c', 'a'],
      ['a[bc]d*', 'a'],
      ['a]b*', 'a]b'],
      ['a^-b*', 'a^-b'],
      ['a\\*b*', 'a*b'],
      ['a\\?\\[x]*', 'a?[x]'],
      ['a\\\\b*', 'a\\b'],
      ['\\*', '*'],
      ['a\\bc?', 'abc'],
      ['ab\\', 'ab\\'], // a \ that ends the pattern stands for itself
      ['k\xff\x00*', 'k\xff\x00'],
    ];
    for (const [pattern, prefix] of cases)
      expect([pattern, prefixOf(pattern)]).toEqual([pattern, prefix]);
  });

  it('is a prefix of every key the pattern matches (fast-check against globMatch)', () => {
    const byte = fc.constantFrom(...'ab*?[]\\^-'.split(''));
    const keyByte = fc.constantFrom(...'ab*?[]\\'.split(''));
    let matched = 0;
    fc.assert(
      fc.property(
        fc.string({ unit: byte, maxLength: 8 }),
        fc.string({ unit: keyByte, maxLength: 8 }),
        (pattern, key) => {
          if (!globMatch(latin1(pattern), latin1(key))) return;
          matched++;
          expect(key.startsWith(prefixOf(pattern))).toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
    expect(matched).toBeGreaterThan(100); // the property was exercised, not vacuous
  });

  it('is exactly the literal key a metachar-free pattern names, escapes included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const key = Buffer.from(bytes);
        const escaped: number[] = [];
        for (const b of key) escaped.push(0x5c, b); // every byte escaped
        const pattern = Buffer.from(escaped);
        expect(globLiteralPrefix(pattern).equals(key)).toBe(true);
        expect(globMatch(pattern, key)).toBe(true);
      }),
    );
  });
});

describe('parseCursor', () => {
  it("accepts Redis's unsigned 64-bit decimal cursors and refuses the rest", () => {
    expect(parseCursor('0')).toBe(0n);
    expect(parseCursor('007')).toBe(7n);
    expect(parseCursor('18446744073709551615')).toBe(2n ** 64n - 1n);
    for (const bad of ['', '-1', '+1', ' 1', '1 ', 'abc', '1e3', '0x10', '18446744073709551616']) {
      expect([bad, parseCursor(bad)]).toEqual([bad, undefined]);
    }
  });
});

/** Resumes `cursor`, failing the test if it is unknown. */
function resumed(scans: ScanCursors, cursor: number | bigint, now = 0): ScanPosition {
  const position = scans.resume(BigInt(cursor), now);
  if (position === undefined) throw new Error(`cursor ${cursor} is unknown`);
  return position;
}

describe('ScanCursors', () => {
  it('continues after the last key of the page; replays the previous cursor; forgets older ones', () => {
    const scans = new ScanCursors();
    const start = resumed(scans, 0);
    expect(start.after).toBeUndefined();
    const first = scans.advance(start, latin1('k10'), 0);
    expect(Number.isSafeInteger(first) && first > 0).toBe(true);
    expect(resumed(scans, first).after?.toString()).toBe('k10');

    const second = scans.advance(resumed(scans, first), latin1('k20'), 0);
    expect(second).not.toBe(first);
    // The previous cursor still works (a client retrying after a lost reply)...
    const retried = resumed(scans, first);
    expect(retried.after?.toString()).toBe('k10');
    // ... and its page hands out the same next cursor, now ending where this page ended.
    expect(scans.advance(retried, latin1('k21'), 0)).toBe(second);
    expect(resumed(scans, second).after?.toString()).toBe('k21');

    const third = scans.advance(resumed(scans, second), latin1('k30'), 0);
    expect(scans.resume(BigInt(first), 0)).toBeUndefined(); // two pages back
    expect(resumed(scans, second).after?.toString()).toBe('k21');
    expect(scans.size).toBe(1);

    scans.end(resumed(scans, third));
    expect(scans.resume(BigInt(third), 0)).toBeUndefined();
    expect(scans.resume(BigInt(second), 0)).toBeUndefined();
    expect(scans.size).toBe(0);
  });

  it('knows no cursor it did not hand out, nor one past 2^53', () => {
    const scans = new ScanCursors();
    const cursor = scans.advance(resumed(scans, 0), latin1('a'), 0);
    for (const other of [
      1n,
      12345n,
      BigInt(cursor) + 1n,
      BigInt(cursor) + 2n ** 20n,
      2n ** 64n - 1n,
    ]) {
      expect(scans.resume(other, 0)).toBeUndefined();
    }
    expect(resumed(scans, cursor).after?.toString()).toBe('a');
  });

  it('keeps each scan apart, and drops the least recently used past MAX_SCANS', () => {
    const scans = new ScanCursors();
    const cursors = Array.from({ length: MAX_SCANS }, (_, i) =>
      scans.advance(resumed(scans, 0), latin1(`key-${i}`), i),
    );
    expect(new Set(cursors).size).toBe(MAX_SCANS);
    resumed(scans, cursors[0]!, MAX_SCANS); // scan 0 used again: scan 1 is now the oldest
    const extra = scans.advance(resumed(scans, 0), latin1('extra'), MAX_SCANS);
    expect(scans.size).toBe(MAX_SCANS);
    expect(scans.resume(BigInt(cursors[1]!), MAX_SCANS)).toBeUndefined();
    expect(resumed(scans, cursors[0]!, MAX_SCANS).after?.toString()).toBe('key-0');
    expect(resumed(scans, cursors[2]!, MAX_SCANS).after?.toString()).toBe('key-2');
    expect(resumed(scans, extra, MAX_SCANS).after?.toString()).toBe('extra');
  });

  it('drops the least recently used past MAX_SCAN_KEY_BYTES, never the scan just advanced', () => {
    const scans = new ScanCursors();
    const big = Buffer.alloc(MAX_SCAN_KEY_BYTES / 4);
    const cursors = Array.from({ length: 4 }, () => scans.advance(resumed(scans, 0), big, 0));
    expect(scans.size).toBe(4);
    scans.advance(resumed(scans, 0), latin1('small'), 0);
    expect(scans.resume(BigInt(cursors[0]!), 0)).toBeUndefined();
    expect(scans.size).toBe(4);
    const huge = scans.advance(resumed(scans, 0), Buffer.alloc(MAX_SCAN_KEY_BYTES + 1), 0);
    expect(scans.size).toBe(1);
    expect(resumed(scans, huge).after?.length).toBe(MAX_SCAN_KEY_BYTES + 1);
  });

  it('drops a scan unused for SCAN_IDLE_MS', () => {
    const scans = new ScanCursors();
    const idle = scans.advance(resumed(scans, 0), latin1('a'), 0);
    const busy = scans.advance(resumed(scans, 0), latin1('b'), 0);
    resumed(scans, busy, SCAN_IDLE_MS);
    expect(scans.resume(BigInt(idle), SCAN_IDLE_MS + 1)).toBeUndefined();
    expect(resumed(scans, busy, SCAN_IDLE_MS + 1).after?.toString()).toBe('b');
    expect(scans.size).toBe(1);
    expect(scans.resume(BigInt(busy), 2 * SCAN_IDLE_MS + 2)).toBeUndefined();
    expect(scans.size).toBe(0);
  });
});
