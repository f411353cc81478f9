// Owns what a range scan's sources have in common: a cursor over latin1 key strings (whose
// order is byte order), and the cursor over a memtable generation (a sorted array). The cursor
// over a sorted file (a key run, or a data segment with its values) is sorted-file-cursor.ts.

/** One sorted source of candidate keys, walked in the scan's direction. */
export interface Cursor {
  /** The current key, or undefined once the source is spent. */
  key: string | undefined;
  next(): void;
}

/** A cursor over a sorted, repeat-free array, from `start` (undefined: from the first key). */
export function arrayCursor(
  keys: readonly string[],
  start: string | undefined,
  reverse: boolean,
): Cursor {
  // First index whose key is >= start (forward) or last whose key is <= start (reverse).
  let lo = 0;
  let hi = keys.length;
  if (start !== undefined) {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (reverse ? keys[mid]! <= start : keys[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
  } else lo = reverse ? keys.length : 0;
  let i = reverse ? lo - 1 : lo;
  const cursor: Cursor = {
    key: keys[i],
    next() {
      i += reverse ? -1 : 1;
      cursor.key = i >= 0 && i < keys.length ? keys[i] : undefined;
    },
  };
  return cursor;
}
