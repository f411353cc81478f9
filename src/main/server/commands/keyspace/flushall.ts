// FLUSHALL and FLUSHDB [ASYNC|SYNC]: delete every key, atomically (`Store.clear`: one batch of
// tombstones applied by the writer between two other writes; other writes wait meanwhile).
// kvd has one database, so both do the same; ASYNC is accepted and runs like SYNC.

import type { CommandContext } from '../../command-context.js';
import { OK, type RespValue } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

async function flush(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  if (args.length > 2) return SYNTAX_ERROR;
  if (args.length === 2 && !['async', 'sync'].includes(keyword(args[1]!))) return SYNTAX_ERROR;
  await ctx.store.clear();
  return OK;
}

function flushCommand(name: string): CommandSpec {
  return {
    name,
    arity: -1,
    flags: ['write'],
    kind: 'write',
    keys: NO_KEYS,
    handler: flush,
    summary: 'Deletes every key, atomically (kvd has one database: FLUSHALL and FLUSHDB are one).',
  };
}

/** FLUSHALL. */
export const flushallCommand = flushCommand('flushall');
/** FLUSHDB. */
export const flushdbCommand = flushCommand('flushdb');
