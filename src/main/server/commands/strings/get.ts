// GET key: the value, or the null bulk string. The GETs every connection starts in one turn of
// the event loop are read together by the store (read-queue.ts).

import type { CommandContext } from '../../command-context.js';
import { bulk, NULL, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

function get(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const counters = ctx.server.counters;
  return ctx.store.get(args[1]!).then((value) => {
    if (value === undefined) {
      counters.keyspaceMisses++;
      return NULL;
    }
    counters.keyspaceHits++;
    return bulk(value);
  });
}

/** GET. */
export const getCommand: CommandSpec = {
  name: 'get',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: get,
};
