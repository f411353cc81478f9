// Owns range scans on the caller's thread (Store.rangeSync, and Store.range in slices): merge
// the sorted key sources (every segment's key run, the memtable's sorted generations) from
// the lower bound (or, reversed, the upper), skip repeats, and ask the index for each key in
// bounds: a key that is deleted, expired or stale in a run is left out, a live one is read. A
// data segment is walked itself (sorted-file-cursor.ts): when the index points at the entry in
// hand, its key (and value) are taken from the block instead of being read again.
// Cost: a seek per source, then per key returned a step per source and one index lookup.

import { Buffer } from 'node:buffer';
import { KvError } from '../shared/errors.js';
import { keyToLatin1 } from '../shared/key-bytes.js';
import type { KeyMemtable } from './key-memtable.js';
import type { KeyRun, KeyRuns } from './key-runs.js';
import { ExpiringEntry, KeyEntry, ValueEntry } from './range-entry.js';
import { arrayCursor, type Cursor } from './scan-cursors.js';
import { SortedFileCursor, type VersionCheck } from './sorted-file-cursor.js';
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
  /** The live value of `key` with its expiry (0: none), for scans that ask for expiries. */
  getWithExpiry?(key: Buffer): { readonly value: Buffer; readonly expiresAt: number } | undefined;
  /** Whether `key` is live. */
  has(key: Buffer): boolean;
  /**
   * Whether a data segment's entry is its key's version the scan sees (false: ask `get`).
   * Without it, data segments are not walked: their key runs are, and every key is read
   * through `get`/`has` (so that a damaged record fails only its own read, as `keys()` wants).
   */
  isVersion?: VersionCheck;
  /** Called once when a scan ends (`scanRange`). */
  end?(): void;
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
  /**
   * Internal (the replication's full resync): each entry also carries `expiresAt`, from the
   * sources' `getWithExpiry` (0 for the data segment entries the scan takes itself: those have
   * none, see `RangeSources.isVersion`).
   */
  readonly expiry?: boolean;
}

/** A range entry with its expiry (a scan with `expiry`). */
export interface RangeEntryWithExpiry {
  readonly key: Buffer;
  readonly value: Buffer;
  /** ms since the epoch; 0: none. */
  readonly expiresAt: number;
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

/** The cursors of one scan: one per source, and those of them that walk data segments. */
function openCursors(
  held: ScanSources,
  range: ResolvedRange,
  start: string | undefined,
  isVersion: VersionCheck | undefined,
): { cursors: Cursor[]; dataCursors: SortedFileCursor[] } {
  const { reverse } = range;
  const cursors: Cursor[] = [];
  const dataCursors: SortedFileCursor[] = [];
  for (const run of held.runs) {
    // A data segment is walked itself: a live entry is known by its location alone, and its
    // value comes with it.
    const segment = isVersion && run.data();
    if (!segment || !isVersion) cursors.push(new SortedFileCursor(run, undefined, start, reverse));
    else {
      const place = { segmentId: run.segmentId, handle: run.handle, isVersion };
      const c = new SortedFileCursor(segment, place, start, reverse);
      cursors.push(c);
      dataCursors.push(c);
    }
  }
  for (const keys of held.views) cursors.push(arrayCursor(keys, start, reverse));
  return { cursors, dataCursors };
}

/**
 * Walks the live keys of `range` in order, yielding each with its value (or without, if
 * `range.values` is false). Reads the current state key by key: a key written during the walk
 * may or may not be seen. `from` may be a function, called at the first step (to take a
 * snapshot then); the sources' `end` is called when the walk ends.
 */
export function* scanRange(
  from: RangeSources | (() => RangeSources),
  range: ResolvedRange,
): Generator<RangeEntry, void, undefined> {
  const sources = typeof from === 'function' ? from() : from;
  try {
    if (range.limit === 0) return;
    const { reverse } = range;
    const start = reverse ? range.high : range.low;
    const held = sources.acquire();
    try {
      const isVersion = sources.isVersion;
      const { cursors, dataCursors } = openCursors(held, range, start, isVersion);
      let yielded = 0;
      for (;;) {
        let key: string | undefined;
        for (const c of cursors) {
          const k = c.key;
          if (k !== undefined && (key === undefined || (reverse ? k > key : k < key))) key = k;
        }
        if (key === undefined) return;
        let skip = false;
        if (reverse) {
          skip = start !== undefined && key === start && !range.highInclusive;
          if (
            range.low !== undefined &&
            (key < range.low || (key === range.low && !range.lowInclusive))
          )
            return;
        } else {
          skip = start !== undefined && key === start && !range.lowInclusive;
          if (
            range.high !== undefined &&
            (key > range.high || (key === range.high && !range.highInclusive))
          )
            return;
        }
        // A live entry in hand: its key and value are copied from its block.
        let entry: RangeEntry | undefined;
        if (!skip) {
          for (const c of dataCursors) {
            if (c.key === key) entry = c.entryIf(range.values);
            if (entry !== undefined) break;
          }
        }
        for (const c of cursors) while (c.key === key) c.next();
        if (skip) continue;
        if (entry !== undefined) {
          if (range.expiry) yield new ExpiringEntry(entry.key, entry.value!, 0);
          else yield entry;
        } else {
          const keyBytes = Buffer.from(key, 'latin1');
          if (range.expiry && sources.getWithExpiry) {
            const found = sources.getWithExpiry(keyBytes);
            if (found === undefined) continue;
            yield new ExpiringEntry(keyBytes, found.value, found.expiresAt);
          } else if (range.values) {
            const value = sources.get(keyBytes);
            if (value === undefined) continue;
            yield new ValueEntry(keyBytes, value);
          } else {
            if (!sources.has(keyBytes)) continue;
            yield new KeyEntry(keyBytes);
          }
        }
        if (++yielded >= range.limit) return;
      }
    } finally {
      held.release();
    }
  } finally {
    sources.end?.();
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
