// WAIT numreplicas timeout: blocks the client until that many replicas have acknowledged every
// write made before it, or the timeout (ms; 0: none) passes; answers how many have.

import type { CommandContext } from '../../command-context.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function wait(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const wanted = Number(args[1]!.toString());
  const timeout = Number(args[2]!.toString());
  if (!Number.isSafeInteger(wanted) || !Number.isSafeInteger(timeout)) {
    return error('ERR value is not an integer or out of range');
  }
  if (timeout < 0) return error('ERR timeout is negative');
  if (ctx.server.replication.isReplica) {
    return error(
      'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
    );
  }
  return integer(await ctx.server.replication.master.wait(wanted, timeout));
}

/** WAIT. */
export const waitCommand: CommandSpec = {
  name: 'wait',
  arity: 3,
  flags: ['noscript'],
  // After every earlier write of the connection has settled: they are in the stream by then.
  kind: 'exclusive',
  keys: NO_KEYS,
  handler: wait,
  summary: 'Waits until replicas have acknowledged the writes made before it.',
};
