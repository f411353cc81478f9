// BGSAVE [SCHEDULE]: starts a hot backup of the store (`Store.backup`) to the server's backup
// directory (`kvd serve --backup-dir`) and answers at once, as Redis does; the previous backup
// is kept as `<backup-dir>.old` until this one is complete. A second BGSAVE while one runs
// answers Redis's error; SCHEDULE changes nothing (kvd has no other background job that would
// make Redis defer the save). LASTSAVE and INFO persistence report how it went.

import type { CommandContext } from '../../command-context.js';
import { error, type RespValue, simple } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

function bgsave(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  if (args.length > 2 || (args.length === 2 && keyword(args[1]!) !== 'schedule')) {
    return SYNTAX_ERROR;
  }
  if (!ctx.server.backgroundSave.start()) return error('ERR Background save already in progress');
  return simple('Background saving started');
}

/** BGSAVE. */
export const bgsaveCommand: CommandSpec = {
  name: 'bgsave',
  arity: -1,
  flags: ['admin', 'noscript', 'no-async-loading'],
  kind: 'write', // after the connection's earlier writes, so the backup holds them
  keys: NO_KEYS,
  handler: bgsave,
  summary: 'Writes a backup of the store to the backup directory in the background.',
};
