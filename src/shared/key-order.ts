// Owns the order of keys: bytewise over their bytes (a string key by its UTF-8 bytes), as in
// LevelDB and lmdb's binary keys. Sorted segments, their fence posts and range scans use it.

/**
 * Compares `a` and `b` bytewise: negative if `a` sorts first, 0 if equal, positive if after.
 * A key sorts before every longer key it is a prefix of. Pure; any thread may call it.
 */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * `compareKeys` of `a[aStart, aEnd)` and `b[bStart, bEnd)`, without making views of them (a
 * block walk compares every entry with the one before it).
 */
export function compareKeyRanges(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
  bStart: number,
  bEnd: number,
): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

/** Bytes `a` and `b` have in common from their start. */
export function sharedPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * A shortest key `s` with `a <= s < b` (requires `a < b`), for a fence post between the last
 * key of one block and the first key of the next. Returns a new array, or `a` itself when no
 * shorter key fits (for example when `a` is a prefix of `b`).
 */
export function shortestSeparator(a: Uint8Array, b: Uint8Array): Uint8Array {
  const p = sharedPrefixLength(a, b);
  if (p >= a.length || p >= b.length) return a;
  // a[p] < b[p]. Raising a byte of `a` at p or later and cutting after it gives a key above
  // `a`. Raised at p, it stays below `b` only if the new byte is still below b[p]; raised after
  // p, it is below `b` because it keeps a[p]. Only a key shorter than `a` is worth it.
  if (a[p]! + 1 < b[p]! && p + 1 < a.length) return bumped(a, p);
  for (let i = p + 1; i + 1 < a.length; i++) {
    if (a[i]! < 0xff) return bumped(a, i);
  }
  return a;
}

/** `a[0, i]` with its last byte (a[i]) raised by one. */
function bumped(a: Uint8Array, i: number): Uint8Array {
  const s = a.slice(0, i + 1);
  s[i]!++;
  return s;
}
