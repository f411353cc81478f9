// AUTH [username] password: authenticates the connection against `--requirepass` (the only user
// is `default`, as in Redis without ACLs). The comparison is constant-time (see server.ts).

import { Buffer } from 'node:buffer';
import type { CommandContext } from '../../command-context.js';
import { error, OK, type RespValue } from '../../resp-value.js';
import { SYNTAX_ERROR } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const DEFAULT_USER = Buffer.from('default');

/** Redis's reply to a wrong user name or password. */
export const WRONGPASS = error('WRONGPASS invalid username-password pair or user is disabled.');
const NO_PASSWORD_SET = error(
  'ERR AUTH <password> called without any password configured for the default user. ' +
    'Are you sure your configuration is correct?',
);

/**
 * Checks `username`/`password` and marks the client authenticated on success. Returns undefined
 * on success, else the WRONGPASS reply. With no password configured, `default` accepts any.
 */
export function authenticate(
  ctx: CommandContext,
  username: Buffer,
  password: Buffer,
): RespValue | undefined {
  const isDefault = username.toString('latin1') === 'default';
  const ok =
    isDefault && (!ctx.server.settings.passwordRequired || ctx.server.checkPassword(password));
  if (!ok) return WRONGPASS;
  ctx.client.authenticated = true;
  return undefined;
}

/** AUTH. */
export const authCommand: CommandSpec = {
  name: 'auth',
  arity: -2,
  flags: ['no-auth', 'fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: (ctx, args) => {
    if (args.length > 3) return SYNTAX_ERROR;
    if (args.length === 2) {
      if (!ctx.server.settings.passwordRequired) return NO_PASSWORD_SET;
      return authenticate(ctx, DEFAULT_USER, args[1]!) ?? OK;
    }
    return authenticate(ctx, args[1]!, args[2]!) ?? OK;
  },
};
