// STATS (kvd's own): the Store's statistics (`Store.stats()`) as one bulk JSON string.

import type { CommandContext } from '../../command-context.js';
import { bulk, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function stats(ctx: CommandContext): Promise<RespValue> {
  return bulk(JSON.stringify(await ctx.store.stats()));
}

/** STATS. */
export const statsCommand: CommandSpec = {
  name: 'stats',
  arity: 1,
  flags: ['readonly'],
  kind: 'read',
  keys: NO_KEYS,
  handler: stats,
  summary: 'kvd: returns the store statistics as JSON.',
};
