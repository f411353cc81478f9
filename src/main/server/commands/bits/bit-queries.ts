// Owns BITCOUNT's and BITPOS's arguments and answers as pure functions: what a request asks (or
// which error it earns), and the number it answers for a value. The main thread's handlers
// (bitcount.ts, bitpos.ts) and a network thread (src/workers/thread-commands.ts) both answer
// with them, so the two cannot differ.

import { parseInteger } from '../../../../shared/write-ops.js';
import { parseRangeUnit, type RangeUnit, resolveBitRange } from './bit-range.js';
import { countBits, findBit } from './bit-string.js';

/** The error a request earns: `-ERR syntax error`, not an integer, or a bit other than 0 and 1. */
export type BitArgumentError = 'syntax' | 'not-integer' | 'bad-bit';

/** What BITCOUNT asked for: the whole value, or a range of it. */
export interface BitCountRequest {
  readonly range:
    | { readonly start: bigint; readonly end: bigint; readonly unit: RangeUnit }
    | undefined;
}

/** BITCOUNT key [start end [BYTE|BIT]]: `args` with the name and the key. */
export function parseBitCount(args: readonly Uint8Array[]): BitCountRequest | BitArgumentError {
  if (args.length === 2) return { range: undefined };
  if (args.length !== 4 && args.length !== 5) return 'syntax';
  const start = parseInteger(args[2]!);
  const end = parseInteger(args[3]!);
  if (start === undefined || end === undefined) return 'not-integer';
  const unit = args.length === 5 ? parseRangeUnit(args[4]!) : 'byte';
  if (unit === undefined) return 'syntax';
  return { range: { start, end, unit } };
}

/** BITCOUNT's answer: the set bits of `value` (0 if absent) in the range asked. */
export function bitCountOf(value: Uint8Array | undefined, request: BitCountRequest): number {
  if (value === undefined || value.length === 0) return 0;
  const range = request.range;
  if (range === undefined) return countBits(value, 0, value.length * 8 - 1);
  // Both ends negative and crossed: empty, even where clamping would make them meet.
  if (range.start < 0n && range.end < 0n && range.start > range.end) return 0;
  const bits = resolveBitRange(value.length, range.start, range.end, range.unit);
  return bits ? countBits(value, bits[0], bits[1]) : 0;
}

/** What BITPOS asked for. */
export interface BitPosRequest {
  readonly bit: number;
  readonly start: bigint;
  readonly end: bigint | undefined;
  readonly unit: RangeUnit;
}

/** BITPOS key 0|1 [start [end [BYTE|BIT]]]: `args` with the name and the key. */
export function parseBitPos(args: readonly Uint8Array[]): BitPosRequest | BitArgumentError {
  const bit = parseInteger(args[2]!);
  if (bit === undefined) return 'not-integer';
  if (bit !== 0n && bit !== 1n) return 'bad-bit';
  if (args.length > 6) return 'syntax';
  // Redis's order: start, then the unit, then end.
  const start = args.length > 3 ? parseInteger(args[3]!) : 0n;
  if (start === undefined) return 'not-integer';
  const unit = args.length === 6 ? parseRangeUnit(args[5]!) : 'byte';
  if (unit === undefined) return 'syntax';
  const end = args.length > 4 ? parseInteger(args[4]!) : undefined;
  if (args.length > 4 && end === undefined) return 'not-integer';
  return { bit: Number(bit), start, end, unit };
}

/**
 * BITPOS's answer for `value` (undefined if absent: 0 looking for 0, -1 looking for 1). The value
 * counts as followed by zeros, so looking for 0 with no end answers the first bit past it.
 */
export function bitPosOf(value: Uint8Array | undefined, request: BitPosRequest): number {
  if (value === undefined) return request.bit ? -1 : 0;
  const range = resolveBitRange(value.length, request.start, request.end ?? -1n, request.unit);
  if (range === undefined) return -1;
  const found = findBit(value, request.bit, range[0], range[1]);
  if (found !== -1 || request.bit === 1 || request.end !== undefined) return found;
  return value.length * 8; // zeros follow the value
}
