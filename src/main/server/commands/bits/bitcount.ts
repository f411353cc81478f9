// BITCOUNT key [start end [BYTE|BIT]]: the set bits of the value, or of a range of it (bytes by
// default; negative positions count from the end). A missing key counts 0.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { readCounted } from '../strings/counted-read.js';
import { bitArgumentError } from './bit-errors.js';
import { bitCountOf, parseBitCount } from './bit-queries.js';

async function bitcount(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const request = parseBitCount(args);
  if (typeof request === 'string') return bitArgumentError(request);
  return integer(bitCountOf(await readCounted(ctx, args[1]!), request));
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
