// LASTSAVE: the Unix time (seconds) of the last index snapshot (SAVE, the periodic snapshot),
// which is kvd's save: after it, an open replays nothing. Until the first one since the store
// was opened it is the time the server started, as Redis counts the data as saved at startup.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

/** LASTSAVE's answer, in ms since the epoch: the last snapshot, else the server's start. */
export function lastSaveMs(ctx: CommandContext, lastSnapshotAt: number): number {
  return lastSnapshotAt > 0 ? lastSnapshotAt : ctx.server.startedAt;
}

async function lastsave(ctx: CommandContext): Promise<RespValue> {
  const stats = await ctx.store.stats();
  return integer(Math.floor(lastSaveMs(ctx, stats.lastSnapshotAt) / 1000));
}

/** LASTSAVE. */
export const lastsaveCommand: CommandSpec = {
  name: 'lastsave',
  arity: 1,
  flags: ['loading', 'stale', 'fast'],
  kind: 'read',
  keys: NO_KEYS,
  handler: lastsave,
  summary: 'Returns the Unix time of the last save (index snapshot).',
};
