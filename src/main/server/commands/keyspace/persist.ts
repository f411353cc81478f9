// PERSIST key: removes the key's expiry (`Store.persist`, applied by the writer); answers 1 if it
// had one, else 0.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function persist(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  return integer((await ctx.store.persist(args[1]!)) ? 1 : 0);
}

/** PERSIST. */
export const persistCommand: CommandSpec = {
  name: 'persist',
  arity: 2,
  flags: ['write', 'fast'],
  kind: 'write',
  keys: [1, 1, 1],
  handler: persist,
  summary: 'Removes the expiry of a key.',
};
