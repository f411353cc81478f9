// EXPIRETIME and PEXPIRETIME key: when the key expires, as a Unix time (seconds, rounded to the
// nearest; or ms), -1 if it has no expiry, -2 if it does not exist. Read on the main thread
// (`Store.expirySync`), after every earlier write of the connection (a `read` command).

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

function expiryTime(ctx: CommandContext, key: Buffer, inMs: boolean): RespValue {
  const at = ctx.store.expirySync(key);
  if (at === undefined) return integer(-2);
  if (at === 0) return integer(-1);
  return integer(inMs ? at : Math.floor((at + 500) / 1000));
}

/** EXPIRETIME key. */
export const expiretimeCommand: CommandSpec = {
  name: 'expiretime',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: (ctx, args) => expiryTime(ctx, args[1]!, false),
  summary: 'Returns the expiration time of a key as a Unix timestamp (seconds).',
};

/** PEXPIRETIME key. */
export const pexpiretimeCommand: CommandSpec = {
  name: 'pexpiretime',
  arity: 2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: (ctx, args) => expiryTime(ctx, args[1]!, true),
  summary: 'Returns the expiration time of a key as a Unix timestamp (milliseconds).',
};
