// MULTI: opens a transaction; until EXEC or DISCARD the client's commands are queued (+QUEUED)
// instead of run. A MULTI inside one is an error that leaves the transaction as it was.

import type { CommandContext } from '../../command-context.js';
import { error, OK, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const NESTED = error('ERR MULTI calls can not be nested');

function multi(ctx: CommandContext): RespValue {
  const transaction = ctx.client.transaction;
  if (transaction.open) return NESTED;
  transaction.begin();
  return OK;
}

/** MULTI. */
export const multiCommand: CommandSpec = {
  name: 'multi',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  kind: 'none',
  keys: NO_KEYS,
  handler: multi,
  summary: 'Starts a transaction: later commands are queued until EXEC or DISCARD.',
};
