// Owns the plain value read of the string and bit read commands (GETRANGE, GETBIT, BITCOUNT, …):
// one GET (coalesced by the store with the turn's others), counted in INFO's keyspace_hits or keyspace_misses as Redis counts lookups.

import type { CommandContext } from '../../command-context.js';

/** The value of `key` (undefined if absent), read with the other GETs of this pass and counted. */
export async function readCounted(ctx: CommandContext, key: Buffer): Promise<Buffer | undefined> {
  const value = await ctx.store.get(key);
  if (value === undefined) ctx.server.counters.keyspaceMisses++;
  else ctx.server.counters.keyspaceHits++;
  return value;
}
