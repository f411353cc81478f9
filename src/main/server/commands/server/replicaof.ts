// REPLICAOF host port | NO ONE (and SLAVEOF, its old name): makes the daemon a replica of a
// master (a full or partial resync follows, then the command stream; clients may only read), or
// a master again, keeping its data.

import type { CommandContext } from '../../command-context.js';
import { error, type RespValue, simple } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function replicaOf(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const host = args[1]!.toString();
  const port = args[2]!.toString();
  const replication = ctx.server.replication;
  if (host.toLowerCase() === 'no' && port.toLowerCase() === 'one') {
    await replication.replicaOf(undefined);
    return simple('OK');
  }
  if (!/^\d+$/.test(port) || Number(port) > 65_535) {
    return error('ERR value is not an integer or out of range');
  }
  const master = replication.masterAddress;
  if (master && master.host === host && master.port === Number(port)) {
    return simple('OK Already connected to specified master');
  }
  // Answered once the link is set up (the sync itself goes on in the background).
  await replication.replicaOf({ host, port: Number(port) });
  return simple('OK');
}

const FLAGS = ['admin', 'noscript', 'stale', 'no-async-loading'];

/** REPLICAOF. */
export const replicaofCommand: CommandSpec = {
  name: 'replicaof',
  arity: 3,
  flags: FLAGS,
  kind: 'none',
  keys: NO_KEYS,
  handler: replicaOf,
  summary: 'Makes the server a replica of a master (or a master again with NO ONE).',
};

/** SLAVEOF: REPLICAOF's old name. */
export const slaveofCommand: CommandSpec = {
  ...replicaofCommand,
  name: 'slaveof',
  summary: 'REPLICAOF under its old name.',
};
