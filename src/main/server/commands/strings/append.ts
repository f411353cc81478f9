// APPEND key value: appends atomically (`Store.append`, applied by the writer); a missing key
// counts as empty; answers the new length. The key's expiry is kept.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function append(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  return integer(await ctx.store.append(args[1]!, args[2]!));
}

/** APPEND. */
export const appendCommand: CommandSpec = {
  name: 'append',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  kind: 'write',
  keys: [1, 1, 1],
  handler: append,
};
