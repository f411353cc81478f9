// GETRANGE key start end (and its old name SUBSTR): the bytes from start to end inclusive;
// negative offsets count from the end, and the range is clamped to the value, as Redis 7.2 does
// (an end before the start of the value still answers its first byte). Missing key: "".

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { bulk, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';
import { readCounted } from './counted-read.js';
import { substringRange } from './substring-range.js';

const EMPTY = bulk('');

async function getrange(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const start = parseInteger(args[2]!);
  const end = parseInteger(args[3]!);
  if (start === undefined || end === undefined) return NOT_AN_INTEGER;
  const value = await readCounted(ctx, args[1]!);
  if (value === undefined) return EMPTY;
  const range = substringRange(value.length, start, end);
  return range ? bulk(value.subarray(range[0], range[1] + 1)) : EMPTY;
}

function rangeCommand(name: string, summary: string): CommandSpec {
  return {
    name,
    arity: 4,
    flags: ['readonly'],
    kind: 'read',
    keys: [1, 1, 1],
    handler: getrange,
    summary,
  };
}

/** GETRANGE. */
export const getrangeCommand = rangeCommand('getrange', "Answers a byte range of a key's value.");
/** SUBSTR (GETRANGE's old name). */
export const substrCommand = rangeCommand(
  'substr',
  "Answers a byte range of a key's value (GETRANGE's old name).",
);
