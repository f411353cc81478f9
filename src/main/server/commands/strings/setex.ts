// SETEX key seconds value and PSETEX key milliseconds value: SET with an expiry (`Store.set`,
// the expiry stored in the record); `+OK`. A time that is not a positive integer answers Redis's
// errors.

import type { CommandContext } from '../../command-context.js';
import { OK, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { type ExpiryOption, expiryFromArgument } from './expiry-argument.js';

function setWithExpiry(name: string, option: ExpiryOption, summary: string): CommandSpec {
  return {
    name,
    arity: 4,
    flags: ['write', 'denyoom'],
    kind: 'write',
    keys: [1, 1, 1],
    summary,
    handler: async (ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> => {
      const at = expiryFromArgument(name, option, args[2]!, Date.now());
      if (typeof at !== 'number') return at;
      await ctx.store.set(args[1]!, args[3]!, { expiresAt: at });
      return OK;
    },
  };
}

/** SETEX key seconds value. */
export const setexCommand = setWithExpiry(
  'setex',
  'ex',
  "Sets a key's value with an expiry in seconds.",
);
/** PSETEX key milliseconds value. */
export const psetexCommand = setWithExpiry(
  'psetex',
  'px',
  "Sets a key's value with an expiry in milliseconds.",
);
