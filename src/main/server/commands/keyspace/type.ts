// TYPE key: `+string` if the key has a value (kvd stores only strings), else `+none`.

import type { CommandContext } from '../../command-context.js';
import { type RespValue, simple } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

const STRING = simple('string');
const NONE = simple('none');

async function type(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  return (await ctx.store.has(args[1]!)) ? STRING : NONE;
}

/** TYPE. */
export const typeCommand: CommandSpec = {
  name: 'type',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: type,
  summary: 'Returns the type of the value of a key (string or none).',
};
