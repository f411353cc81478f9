// KEYS pattern: every key matching the glob pattern, in byte order. It walks only the keys that
// start with the pattern's literal prefix (key-walk.ts; a damaged record left out), reading each
// as it goes: a key written or deleted meanwhile may or may not be listed. A pattern that starts
// with a metachar walks every key, as Redis's does: use SCAN on large stores.

import type { CommandContext } from '../../command-context.js';
import { globLiteralPrefix, globMatch } from '../../glob.js';
import { walkKeys } from '../../key-walk.js';
import { array, bulk, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function keys(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const pattern = args[1]!;
  const prefix = globLiteralPrefix(pattern);
  const matched: RespValue[] = [];
  for await (const key of walkKeys(ctx.store, { prefix })) {
    if (globMatch(pattern, key)) matched.push(bulk(key));
  }
  return array(matched);
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
