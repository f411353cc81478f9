// EXEC: runs the open transaction's queued commands as one atomic batch (transaction-runner.ts)
// and answers their replies as an array; EXECABORT if a command could not be queued, nil if a
// watched key changed. It runs alone on its connection (kind `exclusive`): it reads every earlier
// write of the connection, and no later command runs before it has committed.

import type { CommandContext } from '../../command-context.js';
import { error, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';
import { runTransaction } from './transaction-runner.js';

const WITHOUT_MULTI = error('ERR EXEC without MULTI');
const EXECABORT = error('EXECABORT Transaction discarded because of previous errors.');

function exec(ctx: CommandContext): RespValue | Promise<RespValue> {
  const transaction = ctx.client.transaction;
  if (!transaction.open) return WITHOUT_MULTI;
  // Ended now, before any await: the connection's next MULTI opens a new transaction.
  const ended = transaction.end();
  if (ended.failed) return EXECABORT;
  const { maxKeyBytes, maxValueBytes } = ctx.server.settings;
  return runTransaction(ctx, ended, { maxKeyBytes, maxValueBytes });
}

/** EXEC. */
export const execCommand: CommandSpec = {
  name: 'exec',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'skip_slowlog'],
  kind: 'exclusive',
  keys: NO_KEYS,
  handler: exec,
  summary: "Runs the transaction's queued commands as one atomic batch.",
};
