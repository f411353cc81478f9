// QUIT: `+OK`, then the connection closes once every earlier reply is written.

import { OK } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

/** QUIT. */
export const quitCommand: CommandSpec = {
  name: 'quit',
  arity: -1,
  flags: ['no-auth', 'fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: (ctx) => {
    ctx.client.closeAfterReply();
    return OK;
  },
};
