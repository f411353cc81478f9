// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence of two
// values (a missing key is empty), its length, or its matching runs, as Redis 7 answers them. The
// table is refused, as Redis refuses it, once it would pass proto-max-bulk-len bytes.

import { Buffer } from 'node:buffer';
import type { CommandContext } from '../../command-context.js';
import type { RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { lcsReply, parseLcsRequest } from './lcs-reply.js';

const EMPTY = Buffer.alloc(0);

async function lcs(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const request = parseLcsRequest(args);
  if ('kind' in request) return request;
  const values = await ctx.store.getMany([args[1]!, args[2]!]);
  for (const value of values) {
    if (value === undefined) ctx.server.counters.keyspaceMisses++;
    else ctx.server.counters.keyspaceHits++;
  }
  const [a = EMPTY, b = EMPTY] = values;
  return lcsReply(request, a, b, ctx.server.settings.maxBulkBytes);
}

/** LCS. */
export const lcsCommand: CommandSpec = {
  name: 'lcs',
  arity: -3,
  flags: ['readonly'],
  kind: 'read',
  keys: [1, 2, 1],
  handler: lcs,
  summary: 'Finds the longest common subsequence of two values.',
};
