// BITPOS key 0|1 [start [end [BYTE|BIT]]]: the position of the first bit equal to the one asked
// for, in the value or a range of it. The value counts as followed by zeros, so looking for 0
// with no end answers the first bit past it; with an end given, or looking for 1, not finding it
// answers -1. A missing key answers 0 for 0 and -1 for 1.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { readCounted } from '../strings/counted-read.js';
import { bitArgumentError } from './bit-errors.js';
import { bitPosOf, parseBitPos } from './bit-queries.js';

async function bitpos(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const request = parseBitPos(args);
  if (typeof request === 'string') return bitArgumentError(request);
  return integer(bitPosOf(await readCounted(ctx, args[1]!), request));
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
