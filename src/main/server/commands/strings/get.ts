// GET key: the value, or the null bulk string. The GETs a connection starts in one pass travel
// to the reader pool as one getMany (ctx.gets).

import type { CommandContext } from '../../command-context.js';
import { bulk, NULL, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function get(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const value = await ctx.gets.get(args[1]!);
  if (value === undefined) {
    ctx.server.counters.keyspaceMisses++;
    return NULL;
  }
  ctx.server.counters.keyspaceHits++;
  return bulk(value);
}

/** GET. */
export const getCommand: CommandSpec = {
  name: 'get',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: get,
};
