// RESET: puts the connection back as it was when it connected, as Redis 6.2+ does: ends any
// open transaction (running none of it) and unwatches every key, leaves every channel and pattern
// (with no unsubscribe replies), returns to RESP2, drops the client's name, and, when a password
// is required, makes the client authenticate again. Answers `+RESET`. Acts at once inside MULTI.

import { simple } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const RESET = simple('RESET');

/** RESET. */
export const resetCommand: CommandSpec = {
  name: 'reset',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'no-auth', 'allow_busy'],
  kind: 'none',
  keys: NO_KEYS,
  handler: (ctx) => {
    const client = ctx.client;
    if (client.transaction.open) client.transaction.end();
    client.transaction.unwatch();
    ctx.server.pubsub.leaveAll(client);
    client.protocol = 2;
    client.name = undefined;
    client.authenticated = !ctx.server.settings.passwordRequired;
    return RESET;
  },
  summary: 'Resets the connection: no transaction, watch, subscription, name or RESP3.',
};
