// BITPOS key 0|1 [start [end [BYTE|BIT]]]: the position of the first bit equal to the one asked
// for, in the value or a range of it. The value counts as followed by zeros, so looking for 0
// with no end answers the first bit past it; with an end given, or looking for 1, not finding it
// answers -1. A missing key answers 0 for 0 and -1 for 1.

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER, SYNTAX_ERROR } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';
import { readCounted } from '../strings/counted-read.js';
import { parseRangeUnit, type RangeUnit, resolveBitRange } from './bit-range.js';
import { findBit } from './bit-string.js';

const BAD_BIT = error('ERR The bit argument must be 1 or 0.');

/** What BITPOS asked for. */
interface PosRequest {
  readonly bit: number;
  readonly start: bigint;
  readonly end: bigint | undefined;
  readonly unit: RangeUnit;
}

function parseRequest(args: readonly Buffer[]): PosRequest | RespValue {
  const bit = parseInteger(args[2]!);
  if (bit === undefined) return NOT_AN_INTEGER;
  if (bit !== 0n && bit !== 1n) return BAD_BIT;
  if (args.length > 6) return SYNTAX_ERROR;
  // Redis's order: start, then the unit, then end.
  const start = args.length > 3 ? parseInteger(args[3]!) : 0n;
  if (start === undefined) return NOT_AN_INTEGER;
  const unit = args.length === 6 ? parseRangeUnit(args[5]!) : 'byte';
  if (unit === undefined) return SYNTAX_ERROR;
  const end = args.length > 4 ? parseInteger(args[4]!) : undefined;
  if (args.length > 4 && end === undefined) return NOT_AN_INTEGER;
  return { bit: Number(bit), start, end, unit };
}

async function bitpos(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const request = parseRequest(args);
  if ('kind' in request) return request;
  const value = await readCounted(ctx, args[1]!);
  if (value === undefined) return integer(request.bit ? -1 : 0);
  const range = resolveBitRange(value.length, request.start, request.end ?? -1n, request.unit);
  if (range === undefined) return integer(-1);
  const found = findBit(value, request.bit, range[0], range[1]);
  if (found !== -1 || request.bit === 1 || request.end !== undefined) return integer(found);
  return integer(value.length * 8); // zeros follow the value
}

/** BITPOS. */
export const bitposCommand: CommandSpec = {
  name: 'bitpos',
  arity: -3,
  flags: ['readonly'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: bitpos,
  summary: "Finds the first set or clear bit of a key's value.",
};
