// Owns ranges as KvdLevel walks them: abstract-level's range options (gt/gte/lt/lte, where gte
// wins over gt and lte over lt) as one pair of bounds, narrowed by a seek target or by the last
// key read, and turned into the options of a kvd range scan (which takes one bound a side).

import { Buffer } from 'node:buffer';
import type { RangeOptions } from '../index.js';
import { type LevelData, toBytes } from './level-format.js';

/** abstract-level's range options as its private methods receive them (already encoded). */
export interface LevelRangeOptions {
  /** Keys after this one. */
  readonly gt?: LevelData;
  /** Keys from this one on (wins over `gt`). */
  readonly gte?: LevelData;
  /** Keys before this one. */
  readonly lt?: LevelData;
  /** Keys up to this one (wins over `lt`). */
  readonly lte?: LevelData;
  /** From the greatest key down. */
  readonly reverse?: boolean;
  /** At most this many entries (-1: all). */
  readonly limit?: number;
}

/** One end of a range: a key, and whether the key itself is in the range. */
interface Bound {
  readonly key: Buffer;
  readonly inclusive: boolean;
}

/** A range of keys in byte order; an absent bound leaves that side open. */
export interface LevelBounds {
  /** The lower end. */
  readonly low: Bound | undefined;
  /** The upper end. */
  readonly high: Bound | undefined;
}

/** The bounds `options` describe, with abstract-level's precedence (gte over gt, lte over lt). */
export function boundsOf(options: LevelRangeOptions): LevelBounds {
  let low: Bound | undefined;
  let high: Bound | undefined;
  if (options.gte !== undefined) low = { key: toBytes(options.gte), inclusive: true };
  else if (options.gt !== undefined) low = { key: toBytes(options.gt), inclusive: false };
  if (options.lte !== undefined) high = { key: toBytes(options.lte), inclusive: true };
  else if (options.lt !== undefined) high = { key: toBytes(options.lt), inclusive: false };
  return { low, high };
}

/** Whether the bounds leave both sides open (the whole key space). */
export function isUnbounded(bounds: LevelBounds): boolean {
  return bounds.low === undefined && bounds.high === undefined;
}

/** The tighter of two lower bounds. */
function higherLow(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = Buffer.compare(a.key, b.key);
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? b : a;
}

/** The tighter of two upper bounds. */
function lowerHigh(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = Buffer.compare(a.key, b.key);
  if (order !== 0) return order < 0 ? a : b;
  return a.inclusive ? b : a;
}

/**
 * What is left of `range` from `target` on in the walk's direction: keys at or after it
 * (at or before it, reversed). A target outside `range` leaves nothing, or all of it.
 */
export function seekWithin(range: LevelBounds, target: LevelData, reverse: boolean): LevelBounds {
  const at: Bound = { key: toBytes(target), inclusive: true };
  return reverse
    ? { low: range.low, high: lowerHigh(range.high, at) }
    : { low: higherLow(range.low, at), high: range.high };
}

/** What is left of `range` after `last`, the last key a walk in its direction read. */
export function after(range: LevelBounds, last: Buffer, reverse: boolean): LevelBounds {
  const past: Bound = { key: last, inclusive: false };
  return reverse ? { low: range.low, high: past } : { low: past, high: range.high };
}

/** The options of a kvd range scan of `bounds`. */
export function scanOptions(
  bounds: LevelBounds,
  reverse: boolean,
  limit: number,
  values: boolean,
): RangeOptions {
  const options: { -readonly [K in keyof RangeOptions]: RangeOptions[K] } = {
    reverse,
    limit,
    values,
  };
  if (bounds.low) options[bounds.low.inclusive ? 'gte' : 'gt'] = bounds.low.key;
  if (bounds.high) options[bounds.high.inclusive ? 'lte' : 'lt'] = bounds.high.key;
  return options;
}
