// GETBIT key offset: the bit at `offset` (0 past the end of the value or for a missing key).

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { readCounted } from '../strings/counted-read.js';
import { parseBitOffset } from './bit-offset.js';
import { bitAt } from './bit-string.js';

async function getbit(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const offset = parseBitOffset(ctx.server.settings.maxBulkBytes, args[2]!);
  if (typeof offset !== 'number') return offset;
  const value = await readCounted(ctx, args[1]!);
  return integer(value ? bitAt(value, offset) : 0);
}

/** GETBIT. */
export const getbitCommand: CommandSpec = {
  name: 'getbit',
  arity: 3,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: getbit,
  summary: "Answers one bit of a key's value.",
};
