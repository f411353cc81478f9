// SETNX key value: sets the key only if it has no value (`Store.setWith` with ifAbsent, applied
// by the writer atomically); answers 1 if it set it, else 0.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function setnx(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const { written } = await ctx.store.setWith(args[1]!, args[2]!, { ifAbsent: true });
  return integer(written ? 1 : 0);
}

/** SETNX. */
export const setnxCommand: CommandSpec = {
  name: 'setnx',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  kind: 'write',
  keys: [1, 1, 1],
  handler: setnx,
  summary: "Sets a key's value only if the key does not exist.",
};
