// KEYS pattern: every key matching the glob pattern, from a point-in-time listing taken after
// every earlier write (`Store.keys()`). Like Redis's, it walks the whole keyspace: use SCAN on
// large stores.

import type { CommandContext } from '../../command-context.js';
import { globMatch } from '../../glob.js';
import { array, bulk, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function keys(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const pattern = args[1]!;
  const all = await ctx.store.keys();
  return array(all.filter((key) => globMatch(pattern, key)).map((key) => bulk(key)));
}

/** KEYS. */
export const keysCommand: CommandSpec = {
  name: 'keys',
  arity: 2,
  flags: ['readonly'],
  kind: 'read',
  keys: NO_KEYS,
  handler: keys,
  summary: 'Returns every key matching a glob pattern.',
};
