// GETDEL key: deletes the key and answers the value it had (null if none), atomically
// (`Store.getDelete`, applied by the writer).

import type { CommandContext } from '../../command-context.js';
import { bulkOrNull, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function getdel(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  return bulkOrNull(await ctx.store.getDelete(args[1]!));
}

/** GETDEL. */
export const getdelCommand: CommandSpec = {
  name: 'getdel',
  arity: 2,
  flags: ['write', 'fast'],
  kind: 'write',
  keys: [1, 1, 1],
  handler: getdel,
};
