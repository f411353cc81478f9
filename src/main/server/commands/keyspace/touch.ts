// TOUCH key [key ...]: how many of the keys exist, a key named twice counting twice. Redis also
// updates each key's last access time; kvd keeps none (OBJECT IDLETIME is always 0), so TOUCH
// is only a read: it changes nothing.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function touch(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const lookups: Promise<boolean>[] = [];
  for (let i = 1; i < args.length; i++) lookups.push(ctx.store.has(args[i]!));
  let found = 0;
  for (const exists of await Promise.all(lookups)) if (exists) found++;
  return integer(found);
}

/** TOUCH. */
export const touchCommand: CommandSpec = {
  name: 'touch',
  arity: -2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, -1, 1],
  handler: touch,
  summary: 'Returns how many of the keys exist (kvd keeps no access times to update).',
};
