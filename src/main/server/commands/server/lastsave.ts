// LASTSAVE: the Unix time (seconds) of the last save: an index snapshot (SAVE, the periodic
// snapshot: after it, an open replays nothing) or a finished BGSAVE (a backup), whichever is
// later. Until the first one since the store was opened it is the time the server started, as
// Redis counts the data as saved at startup.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

/** LASTSAVE's answer, in ms since the epoch: the last snapshot or backup, else the server's start. */
export function lastSaveMs(ctx: CommandContext, lastSnapshotAt: number): number {
  const last = Math.max(lastSnapshotAt, ctx.server.backgroundSave.lastSavedAt);
  return last > 0 ? last : ctx.server.startedAt;
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
