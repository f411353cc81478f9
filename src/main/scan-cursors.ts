// Owns the sorted sources a range scan merges, each a cursor over latin1 key strings (whose
// order is byte order): a memtable generation (a sorted array) and a key run (keys only). A
// data segment's cursor, which also holds each entry's value, is in data-segment-cursor.ts.

import {
  isSortedFailure,
  type SortedDecodeFailure,
  sortedCorruption,
} from '../shared/sorted-format.js';
import type { KeyRun } from './key-runs.js';

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

/** A cursor over a key run's keys, from `start`. */
export function runCursor(run: KeyRun, start: string | undefined, reverse: boolean): Cursor {
  const seekKey = start === undefined ? undefined : Buffer.from(start, 'latin1');
  if (!reverse) {
    // Keys read off the block cursor: no entry objects.
    return walkCursor(run, run.reader.walkForward(seekKey), (at) =>
      Buffer.from(at.key.buffer, at.key.byteOffset, at.keyLength).toString('latin1'),
    );
  }
  return walkCursor(run, run.reader.seek(seekKey, { reverse }), (entry) =>
    Buffer.from(entry.key.buffer, entry.key.byteOffset, entry.key.length).toString('latin1'),
  );
}

/** A cursor over a key run's walk, each step's key made a latin1 string by `keyOf`. */
function walkCursor<T>(
  run: KeyRun,
  walk: Generator<T | SortedDecodeFailure, void, undefined>,
  keyOf: (step: T) => string,
): Cursor {
  const cursor: Cursor = {
    key: undefined,
    next() {
      const step = walk.next();
      if (step.done) {
        cursor.key = undefined;
        return;
      }
      const value = step.value;
      if (isSortedFailure(value)) throw sortedCorruption(value, run.file);
      cursor.key = keyOf(value as T);
    },
  };
  cursor.next();
  return cursor;
}
