// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE]: graceful shutdown (answer what is in flight, flush and
// fsync, close). As with Redis, the client gets no reply: its connection closes.

import { NO_REPLY } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const OPTIONS = new Set(['nosave', 'save', 'now', 'force']);

/** SHUTDOWN. */
export const shutdownCommand: CommandSpec = {
  name: 'shutdown',
  arity: -1,
  flags: ['admin', 'noscript', 'loading', 'stale'],
  kind: 'none',
  keys: NO_KEYS,
  summary: 'Stops the server gracefully: answers what is in flight, flushes and closes the store.',
  handler: (ctx, args) => {
    for (let i = 1; i < args.length; i++) if (!OPTIONS.has(keyword(args[i]!))) return SYNTAX_ERROR;
    ctx.client.closeAfterReply();
    ctx.server.shutdown();
    return NO_REPLY;
  },
};
