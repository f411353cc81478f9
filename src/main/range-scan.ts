// Owns range scans on the caller's thread (Store.rangeSync, and Store.range in slices): merge
// the sorted key sources (every segment's key run, the memtable's sorted generations) from
// the lower bound (or, reversed, the upper), skip repeats, and ask the index for each key in
// bounds: a key that is deleted, expired or stale in a run is left out, a live one is read.
// Cost: a seek per source, then per key returned a step per source and one index lookup.

import { KvError } from '../shared/errors.js';
import { keyToLatin1 } from '../shared/key-bytes.js';
import {
  isSortedFailure,
  type SortedDecodeFailure,
  sortedCorruption,
} from '../shared/sorted-format.js';
import type { KeyMemtable } from './key-memtable.js';
import type { KeyRun, KeyRuns } from './key-runs.js';
import type { RangeEntry, RangeOptions } from './store-types.js';

/** The sorted key sources of one scan, held until `release`. */
export interface ScanSources {
  /** Key runs, each walked from the scan's start. */
  readonly runs: readonly KeyRun[];
  /** The memtable's keys, as sorted, repeat-free arrays. */
  readonly views: readonly (readonly string[])[];
  release(): void;
}

/** What a scan needs of the store, or of a snapshot. */
export interface RangeSources {
  /** The key sources to merge (the store's current ones, or a snapshot's). */
  acquire(): ScanSources;
  /** The live value of `key`, or undefined. Throws KV_CORRUPTION. */
  get(key: Buffer): Buffer | undefined;
  /** Whether `key` is live. */
  has(key: Buffer): boolean;
}

/** The store's current key sources: its open key runs and its memtable. */
export function currentSources(runs: KeyRuns, memtable: KeyMemtable): ScanSources {
  const held = runs.acquire();
  try {
    return { runs: held, views: memtable.sortedViews(), release: () => runs.release(held) };
  } catch (error) {
    runs.release(held);
    throw error;
  }
}

const OPTION_NAMES = new Set(['gt', 'gte', 'lt', 'lte', 'prefix', 'reverse', 'limit', 'values']);

/** A range's bounds as latin1 strings (byte order), and how to walk it. */
export interface ResolvedRange {
  /** Lower bound, and whether it is included; undefined: from the first key. */
  readonly low: string | undefined;
  readonly lowInclusive: boolean;
  /** Upper bound, and whether it is included; undefined: to the last key. */
  readonly high: string | undefined;
  readonly highInclusive: boolean;
  readonly reverse: boolean;
  /** Entries at most (Infinity: no limit). */
  readonly limit: number;
  readonly values: boolean;
}

function boundOf(name: string, value: unknown): string {
  if (typeof value === 'string' || value instanceof Uint8Array) return keyToLatin1(value);
  throw new KvError('KV_INVALID_ARGUMENT', `range option ${name} must be a string or bytes`);
}

/** The least string greater than every string that starts with `prefix` (undefined: none). */
function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}

/** Validates range options (unknown ones refused) and resolves them to bounds. */
export function resolveRange(options: RangeOptions = {}): ResolvedRange {
  if (typeof options !== 'object' || options === null) {
    throw new KvError('KV_INVALID_ARGUMENT', 'range options must be an object');
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) {
      throw new KvError('KV_INVALID_ARGUMENT', `unknown range option ${JSON.stringify(name)}`);
    }
  }
  const o = options as Record<string, unknown>;
  if (o.gt !== undefined && o.gte !== undefined) {
    throw new KvError('KV_INVALID_ARGUMENT', 'range takes gt or gte, not both');
  }
  if (o.lt !== undefined && o.lte !== undefined) {
    throw new KvError('KV_INVALID_ARGUMENT', 'range takes lt or lte, not both');
  }
  let low: string | undefined;
  let lowInclusive = true;
  let high: string | undefined;
  let highInclusive = true;
  if (o.gt !== undefined) [low, lowInclusive] = [boundOf('gt', o.gt), false];
  if (o.gte !== undefined) low = boundOf('gte', o.gte);
  if (o.lt !== undefined) [high, highInclusive] = [boundOf('lt', o.lt), false];
  if (o.lte !== undefined) high = boundOf('lte', o.lte);
  if (o.prefix !== undefined) {
    const prefix = boundOf('prefix', o.prefix);
    if (low === undefined || low < prefix) [low, lowInclusive] = [prefix, true];
    const end = prefixEnd(prefix);
    if (end !== undefined && (high === undefined || high >= end)) {
      [high, highInclusive] = [end, false];
    }
  }
  const limit = o.limit ?? Number.POSITIVE_INFINITY;
  if (
    typeof limit !== 'number' ||
    !(limit === Number.POSITIVE_INFINITY || limit === -1 || (Number.isInteger(limit) && limit >= 0))
  ) {
    throw new KvError('KV_INVALID_ARGUMENT', 'range limit must be a non-negative integer');
  }
  for (const name of ['reverse', 'values'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') {
      throw new KvError('KV_INVALID_ARGUMENT', `range option ${name} must be a boolean`);
    }
  }
  return {
    low,
    lowInclusive,
    high,
    highInclusive,
    reverse: o.reverse === true,
    limit: limit === -1 ? Number.POSITIVE_INFINITY : limit,
    values: o.values !== false,
  };
}

/** One sorted source of candidate keys, walked in the scan's direction. */
interface Cursor {
  /** The current key, or undefined once the source is spent. */
  key: string | undefined;
  next(): void;
}

function arrayCursor(keys: readonly string[], start: string | undefined, reverse: boolean): Cursor {
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

function runCursor(run: KeyRun, start: string | undefined, reverse: boolean): Cursor {
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

/**
 * Walks the live keys of `range` in order, yielding each with its value (or without, if
 * `range.values` is false). Reads the current state key by key: a key written during the walk
 * may or may not be seen.
 */
export function* scanRange(
  sources: RangeSources,
  range: ResolvedRange,
): Generator<RangeEntry, void, undefined> {
  if (range.limit === 0) return;
  const { reverse } = range;
  const start = reverse ? range.high : range.low;
  const held = sources.acquire();
  try {
    const cursors: Cursor[] = [
      ...held.runs.map((r) => runCursor(r, start, reverse)),
      ...held.views.map((keys) => arrayCursor(keys, start, reverse)),
    ];
    let yielded = 0;
    for (;;) {
      let key: string | undefined;
      for (const c of cursors) {
        const k = c.key;
        if (k !== undefined && (key === undefined || (reverse ? k > key : k < key))) key = k;
      }
      if (key === undefined) return;
      for (const c of cursors) while (c.key === key) c.next();
      if (reverse) {
        if (start !== undefined && key === start && !range.highInclusive) continue;
        if (
          range.low !== undefined &&
          (key < range.low || (key === range.low && !range.lowInclusive))
        )
          return;
      } else {
        if (start !== undefined && key === start && !range.lowInclusive) continue;
        if (
          range.high !== undefined &&
          (key > range.high || (key === range.high && !range.highInclusive))
        )
          return;
      }
      const keyBytes = Buffer.from(key, 'latin1');
      if (range.values) {
        const value = sources.get(keyBytes);
        if (value === undefined) continue;
        yield { key: keyBytes, value };
      } else {
        if (!sources.has(keyBytes)) continue;
        yield { key: keyBytes };
      }
      if (++yielded >= range.limit) return;
    }
  } finally {
    held.release();
  }
}

/** The bound that continues a scan after `last` (the last key it yielded). */
export function continueAfter(range: ResolvedRange, last: Buffer): ResolvedRange {
  const key = last.toString('latin1');
  return range.reverse
    ? { ...range, high: key, highInclusive: false }
    : { ...range, low: key, lowInclusive: false };
}

/** Entries a slice of an async scan reads before it yields to the event loop. */
const SLICE = 512;

/**
 * The scan as an async iterable (Store.range): slices of up to `SLICE` entries, each read
 * whole (so no key run is held while the consumer waits), each next slice continuing after the
 * last key. Between slices the event loop runs.
 */
export async function* scanRangeInSlices(
  sources: RangeSources,
  range: ResolvedRange,
): AsyncGenerator<RangeEntry, void, undefined> {
  let next = range;
  let left = range.limit;
  while (left > 0) {
    const slice = [...scanRange(sources, { ...next, limit: Math.min(SLICE, left) })];
    for (const entry of slice) yield entry;
    if (slice.length < Math.min(SLICE, left)) return;
    left -= slice.length;
    next = continueAfter(next, slice[slice.length - 1]!.key);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
