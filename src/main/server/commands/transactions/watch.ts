// WATCH key [key ...] and UNWATCH: WATCH records each key's version (Store.version) after every
// earlier write of the connection, and the store's sequence number; EXEC aborts (nil) if any of
// them has another version by then, or an absent one had a value in between, whoever changed it
// and however (write, delete, FLUSHALL, expiry). UNWATCH forgets them all, as
// EXEC and DISCARD do. WATCH inside MULTI is an error that leaves the transaction as it was.

import type { CommandContext } from '../../command-context.js';
import { error, OK, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const INSIDE_MULTI = error('ERR WATCH inside MULTI is not allowed');

function watch(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const transaction = ctx.client.transaction;
  if (transaction.open) return INSIDE_MULTI;
  // The sequence number before the versions: an absent key must stay absent from it on (a key
  // created after it shows in its version). Every version first: a key the store refuses
  // (KV_KEY_TOO_LARGE) leaves nothing half watched.
  const since = ctx.store.sequence();
  const keys = args.slice(1);
  const versions = keys.map((key) => ctx.store.version(key));
  for (let i = 0; i < keys.length; i++) transaction.watch(keys[i]!, versions[i], since);
  return OK;
}

function unwatch(ctx: CommandContext): RespValue {
  ctx.client.transaction.unwatch();
  return OK;
}

/** WATCH. A `read`: it sees every earlier write of the connection. */
export const watchCommand: CommandSpec = {
  name: 'watch',
  arity: -2,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  kind: 'read',
  keys: [1, -1, 1],
  handler: watch,
  summary: 'Watches keys: EXEC aborts if any of them changes before it.',
};

/** UNWATCH. */
export const unwatchCommand: CommandSpec = {
  name: 'unwatch',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  kind: 'none',
  keys: NO_KEYS,
  handler: unwatch,
  summary: 'Forgets every watched key.',
};
