// GETSET key value: sets the value (dropping any expiry, as SET does) and answers the one it
// replaced, or null; one atomic store operation (`Store.setWith` with returnPrevious).

import type { CommandContext } from '../../command-context.js';
import { bulkOrNull, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function getset(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const { previous } = await ctx.store.setWith(args[1]!, args[2]!, { returnPrevious: true });
  return bulkOrNull(previous);
}

/** GETSET. */
export const getsetCommand: CommandSpec = {
  name: 'getset',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  kind: 'write',
  keys: [1, 1, 1],
  handler: getset,
  summary: "Sets a key's value and answers the value it replaced.",
};
