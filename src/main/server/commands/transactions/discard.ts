// DISCARD: drops the open transaction's queued commands, runs none of them, and unwatches every
// key.

import type { CommandContext } from '../../command-context.js';
import { error, OK, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const WITHOUT_MULTI = error('ERR DISCARD without MULTI');

function discard(ctx: CommandContext): RespValue {
  const transaction = ctx.client.transaction;
  if (!transaction.open) return WITHOUT_MULTI;
  transaction.end();
  return OK;
}

/** DISCARD. */
export const discardCommand: CommandSpec = {
  name: 'discard',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  kind: 'none',
  keys: NO_KEYS,
  handler: discard,
  summary: "Drops the transaction's queued commands and unwatches every key.",
};
