// MGET key [key ...]: an array of values (null bulk for missing keys), as one getMany.

import type { CommandContext } from '../command-context.js';
import { array, bulkOrNull, type RespValue } from '../resp-value.js';
import type { CommandSpec } from './command-spec.js';

async function mget(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const values = await ctx.store.getMany(args.slice(1));
  let hits = 0;
  for (const value of values) if (value !== undefined) hits++;
  ctx.server.counters.keyspaceHits += hits;
  ctx.server.counters.keyspaceMisses += values.length - hits;
  return array(values.map(bulkOrNull));
}

/** MGET. */
export const mgetCommand: CommandSpec = {
  name: 'mget',
  arity: -2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, -1, 1],
  handler: mget,
};
