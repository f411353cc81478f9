// BITCOUNT key [start end [BYTE|BIT]]: the set bits of the value, or of a range of it (bytes by
// default; negative positions count from the end). A missing key counts 0.

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER, SYNTAX_ERROR } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';
import { readCounted } from '../strings/counted-read.js';
import { parseRangeUnit, type RangeUnit, resolveBitRange } from './bit-range.js';
import { countBits } from './bit-string.js';

/** A range as asked, before the value's length is known. */
interface CountRange {
  readonly start: bigint;
  readonly end: bigint;
  readonly unit: RangeUnit;
}

function parseRange(args: readonly Buffer[]): CountRange | undefined | RespValue {
  if (args.length === 2) return undefined;
  if (args.length !== 4 && args.length !== 5) return SYNTAX_ERROR;
  const start = parseInteger(args[2]!);
  const end = parseInteger(args[3]!);
  if (start === undefined || end === undefined) return NOT_AN_INTEGER;
  const unit = args.length === 5 ? parseRangeUnit(args[4]!) : 'byte';
  if (unit === undefined) return SYNTAX_ERROR;
  return { start, end, unit };
}

async function bitcount(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const range = parseRange(args);
  if (range !== undefined && 'kind' in range) return range;
  const value = await readCounted(ctx, args[1]!);
  if (value === undefined || value.length === 0) return integer(0);
  if (range === undefined) return integer(countBits(value, 0, value.length * 8 - 1));
  // Both ends negative and crossed: empty, even where clamping would make them meet.
  if (range.start < 0n && range.end < 0n && range.start > range.end) return integer(0);
  const bits = resolveBitRange(value.length, range.start, range.end, range.unit);
  return integer(bits ? countBits(value, bits[0], bits[1]) : 0);
}

/** BITCOUNT. */
export const bitcountCommand: CommandSpec = {
  name: 'bitcount',
  arity: -2,
  flags: ['readonly'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: bitcount,
  summary: "Counts the set bits of a key's value, or of a range of it.",
};
