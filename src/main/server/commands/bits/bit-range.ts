// Owns the optional range of BITCOUNT and BITPOS: `start end [BYTE|BIT]`, negative positions
// counting from the end, clamped to the value as Redis 7 clamps them, resolved to a bit range.
// Pure (a network thread imports it, through bit-queries.ts).

import { keyword } from '../keyword.js';

/** Whether a range counts bytes (the default) or bits. */
export type RangeUnit = 'byte' | 'bit';

/** BYTE or BIT (any case) as a unit; undefined for anything else. */
export function parseRangeUnit(arg: Uint8Array): RangeUnit | undefined {
  const unit = keyword(arg);
  return unit === 'byte' || unit === 'bit' ? unit : undefined;
}

/**
 * The inclusive bit range [first, last] that `start` and `end` (in `unit`s, negative from the
 * end) cover in a `length`-byte value, clamped to it; undefined when empty. Pure.
 */
export function resolveBitRange(
  length: number,
  start: bigint,
  end: bigint,
  unit: RangeUnit,
): readonly [first: number, last: number] | undefined {
  const total = BigInt(unit === 'bit' ? length * 8 : length);
  let first = start < 0n ? total + start : start;
  let last = end < 0n ? total + end : end;
  if (first < 0n) first = 0n;
  if (last < 0n) last = 0n;
  if (last >= total) last = total - 1n;
  if (first > last) return undefined;
  return unit === 'bit' ? [Number(first), Number(last)] : [Number(first) * 8, Number(last) * 8 + 7];
}
