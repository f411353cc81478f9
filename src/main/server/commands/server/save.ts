// SAVE: a synchronous save, kvd's way (`Store.checkpoint()`): every write so far is forced to
// disk and the index snapshot is written, so the next open replays nothing. Answers +OK once
// both are done; this connection waits meanwhile, other clients do not.

import type { CommandContext } from '../../command-context.js';
import { OK, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function save(ctx: CommandContext): Promise<RespValue> {
  await ctx.store.checkpoint();
  return OK;
}

/** SAVE. */
export const saveCommand: CommandSpec = {
  name: 'save',
  arity: 1,
  flags: ['admin', 'noscript', 'no-async-loading'],
  kind: 'write',
  keys: NO_KEYS,
  handler: save,
  summary: 'Forces every write to disk and writes the index snapshot now.',
};
