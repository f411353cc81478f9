// DBSIZE: the number of keys in the index. As in Redis, a key whose expiry has passed is still
// counted until a read finds it expired or the engine's active expiry cycle (ten times a second)
// deletes it, so it can briefly exceed the number of keys GET would find.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function dbsize(ctx: CommandContext): Promise<RespValue> {
  return integer((await ctx.store.stats()).keys);
}

/** DBSIZE. */
export const dbsizeCommand: CommandSpec = {
  name: 'dbsize',
  arity: 1,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: NO_KEYS,
  handler: dbsize,
  summary: 'Returns the number of keys in the database.',
};
