// STRLEN key: the value's length in bytes, 0 for a missing key. (It reads the value: the Store
// has no length-only read yet.)

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function strlen(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const value = await ctx.store.get(args[1]!);
  return integer(value?.length ?? 0);
}

/** STRLEN. */
export const strlenCommand: CommandSpec = {
  name: 'strlen',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: strlen,
};
