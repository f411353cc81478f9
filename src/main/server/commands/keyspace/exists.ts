// EXISTS key [key ...]: how many of the keys exist, a key named twice counting twice. One key is
// a `has`; several are one getMany (the Store has no many-key `has` yet).

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function exists(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  if (args.length === 2) return integer((await ctx.store.has(args[1]!)) ? 1 : 0);
  const values = await ctx.store.getMany(args.slice(1));
  let count = 0;
  for (const value of values) if (value !== undefined) count++;
  return integer(count);
}

/** EXISTS. */
export const existsCommand: CommandSpec = {
  name: 'exists',
  arity: -2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, -1, 1],
  handler: exists,
  summary: 'Returns how many of the keys exist.',
};
