// RANDOMKEY: a key picked at random among the live ones (`Store.randomKey`, sampled from the
// index, so close to uniform rather than exact), or the null reply when there is none.

import type { CommandContext } from '../../command-context.js';
import { bulkOrNull, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function randomkey(ctx: CommandContext): Promise<RespValue> {
  return bulkOrNull(await ctx.store.randomKey());
}

/** RANDOMKEY. */
export const randomkeyCommand: CommandSpec = {
  name: 'randomkey',
  arity: 1,
  flags: ['readonly'],
  kind: 'read',
  keys: NO_KEYS,
  handler: randomkey,
  summary: 'Returns a random key name from the database.',
};
