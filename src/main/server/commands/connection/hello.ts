// HELLO [protover [AUTH username password] [SETNAME name]]: switches to RESP2 or RESP3,
// optionally authenticating and naming the client, and answers the server's identity as a map.

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { array, bulk, error, integer, map, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';
import { authenticate } from './auth.js';
import { INVALID_CLIENT_NAME, isValidClientName } from './client-name.js';

const BAD_VERSION = error('ERR Protocol version is not an integer or out of range');
const NOPROTO = error('NOPROTO unsupported protocol version');
const NOAUTH_HELLO = error(
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the ' +
    'HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and ' +
    'select the RESP protocol version at the same time',
);

function hello(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  let version: 2 | 3 | undefined;
  if (args.length >= 2) {
    const asked = parseInteger(args[1]!);
    if (asked === undefined) return BAD_VERSION;
    if (asked !== 2n && asked !== 3n) return NOPROTO;
    version = asked === 2n ? 2 : 3;
  }
  let credentials: [Buffer, Buffer] | undefined;
  let name: Buffer | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = args[i]!.toString('latin1');
    const more = args.length - 1 - i;
    if (option.toLowerCase() === 'auth' && more >= 2) {
      credentials = [args[i + 1]!, args[i + 2]!];
      i += 2;
    } else if (option.toLowerCase() === 'setname' && more >= 1) {
      name = args[i + 1]!;
      if (!isValidClientName(name)) return error(INVALID_CLIENT_NAME);
      i++;
    } else {
      return error(`ERR Syntax error in HELLO option '${option}'`);
    }
  }
  if (credentials) {
    const failed = authenticate(ctx, credentials[0], credentials[1]);
    if (failed) return failed;
  }
  if (!ctx.client.authenticated) return NOAUTH_HELLO;
  if (name !== undefined) ctx.client.name = name.length > 0 ? name.toString('latin1') : undefined;
  if (version !== undefined) ctx.client.protocol = version;
  return map([
    [bulk('server'), bulk('kvd')],
    [bulk('version'), bulk(ctx.server.settings.version)],
    [bulk('proto'), integer(ctx.client.protocol)],
    [bulk('id'), integer(ctx.client.id)],
    [bulk('mode'), bulk('standalone')],
    [bulk('role'), bulk('master')],
    [bulk('modules'), array([])],
  ]);
}

/** HELLO. */
export const helloCommand: CommandSpec = {
  name: 'hello',
  arity: -1,
  flags: ['no-auth', 'fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: hello,
};
