// TTL and PTTL key: the time left before the key expires (seconds, rounded; or ms), -1 if it has
// no expiry, -2 if it does not exist. Read on the main thread (`Store.expirySync`), after every
// earlier write of the connection (it is a `read` command). A network thread answers it alike
// (src/workers/thread-commands.ts).

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

function timeLeft(ctx: CommandContext, key: Buffer, inMs: boolean): RespValue {
  const at = ctx.store.expirySync(key);
  if (at === undefined) return integer(-2);
  if (at === 0) return integer(-1);
  const ms = Math.max(0, at - Date.now());
  return integer(inMs ? ms : Math.floor((ms + 500) / 1000));
}

/** TTL key. */
export const ttlCommand: CommandSpec = {
  name: 'ttl',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: (ctx, args) => timeLeft(ctx, args[1]!, false),
  summary: 'Returns the time to live of a key in seconds.',
};

/** PTTL key. */
export const pttlCommand: CommandSpec = {
  name: 'pttl',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: (ctx, args) => timeLeft(ctx, args[1]!, true),
  summary: 'Returns the time to live of a key in milliseconds.',
};
