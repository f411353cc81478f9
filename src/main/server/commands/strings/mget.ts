// MGET key [key ...]: an array of values (null bulk for missing keys), as one getMany. If the
// getMany fails (one damaged record fails the whole call), each key is read alone: readable
// keys are answered, and a damaged one answers an error element in its place (counted in
// INFO's kvd_damaged_reads), so one bad record does not hide the others.

import { KvError } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { array, bulkOrNull, type RespValue } from '../../resp-value.js';
import { errorReply } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

async function mget(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const keys = args.slice(1);
  let values: (Buffer | undefined | KvError)[];
  try {
    values = await ctx.store.getMany(keys);
  } catch (error) {
    if (!(error instanceof KvError) || error.code !== 'KV_CORRUPTION') throw error;
    values = keys.map((key) => {
      try {
        return ctx.store.getSync(key);
      } catch (failure) {
        if (!(failure instanceof KvError) || failure.code !== 'KV_CORRUPTION') throw failure;
        ctx.server.log.warn({ key: key.toString('utf8'), err: failure }, 'MGET: a damaged record');
        return failure;
      }
    });
  }
  let hits = 0;
  let misses = 0;
  const replies = values.map((value) => {
    if (value instanceof KvError) return errorReply(value, ctx.server.log);
    if (value === undefined) misses++;
    else hits++;
    return bulkOrNull(value);
  });
  ctx.server.counters.keyspaceHits += hits;
  ctx.server.counters.keyspaceMisses += misses;
  return array(replies);
}

/** MGET. */
export const mgetCommand: CommandSpec = {
  name: 'mget',
  arity: -2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, -1, 1],
  handler: mget,
};
