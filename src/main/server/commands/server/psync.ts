// PSYNC replid offset, and SYNC (PSYNC ? -1): the connection becomes a replica of this server,
// which answers +CONTINUE (the stream from the backlog) or +FULLRESYNC (an RDB file of a
// snapshot, then the stream). kvd-as-replica servers do not serve replicas of their own.

import type { CommandContext } from '../../command-context.js';
import { error, type RespValue, simple } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function psync(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const replication = ctx.server.replication;
  if (replication.isReplica) {
    return error('ERR kvd does not chain replicas: connect this replica to the master');
  }
  if (ctx.client.transaction.open) return error('ERR PSYNC is not allowed inside MULTI');
  const replId = args.length >= 3 ? args[1]!.toString() : '?';
  const offset = args.length >= 3 ? Number(args[2]!.toString()) : -1;
  if (!Number.isSafeInteger(offset)) return error('ERR value is not an integer or out of range');
  await replication.master.psync(ctx.client, replId, offset);
  return simple('OK'); // never sent: the connection's replies are muted from PSYNC on
}

const FLAGS = ['admin', 'noscript', 'no-async-loading', 'no-multi'];

/** PSYNC. */
export const psyncCommand: CommandSpec = {
  name: 'psync',
  arity: -3,
  flags: FLAGS,
  kind: 'none',
  keys: NO_KEYS,
  handler: psync,
  summary: 'Starts replication from this server (partial or full resync).',
};

/** SYNC: PSYNC ? -1 (a full resync). */
export const syncCommand: CommandSpec = {
  name: 'sync',
  arity: 1,
  flags: FLAGS,
  kind: 'none',
  keys: NO_KEYS,
  handler: psync,
  summary: 'Starts replication from this server with a full resync.',
};
