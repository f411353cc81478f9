// GET key: the value, or the null bulk string. The GETs every connection starts in one turn of
// the event loop are read together by the store (read-queue.ts); outside MULTI the connection
// serves GET directly (`direct`: the request is the read's target, no promise).

import type { CommandContext } from '../../command-context.js';
import { bulk, NULL, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

/** GET's reply to the value read, counted as a keyspace hit or miss. */
function getReply(ctx: CommandContext, value: Buffer | undefined): RespValue {
  const counters = ctx.server.counters;
  if (value === undefined) {
    counters.keyspaceMisses++;
    return NULL;
  }
  counters.keyspaceHits++;
  return bulk(value);
}

function get(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  return ctx.store.get(args[1]!).then((value) => getReply(ctx, value));
}

/** GET. */
export const getCommand: CommandSpec = {
  name: 'get',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: get,
  direct: { kind: 'read', reply: getReply },
};
