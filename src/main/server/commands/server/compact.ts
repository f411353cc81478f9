// COMPACT (kvd's own): runs `Store.compact()` (seal the active segment, merge every sealed one)
// and answers, once the merges are installed and the old files removed, with what it did as
// one bulk JSON string (merges, segmentsMerged, bytesBefore, bytesAfter, keysMoved, …).
// Other clients keep being served meanwhile; only this connection waits.

import type { CommandContext } from '../../command-context.js';
import { bulk, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function compact(ctx: CommandContext): Promise<RespValue> {
  return bulk(JSON.stringify(await ctx.store.compact()));
}

/** COMPACT. */
export const compactCommand: CommandSpec = {
  name: 'compact',
  arity: 1,
  flags: ['admin'],
  kind: 'write',
  keys: NO_KEYS,
  handler: compact,
  summary: 'kvd: compacts the store now and returns what it did as JSON.',
};
