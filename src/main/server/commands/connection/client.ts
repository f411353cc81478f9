// CLIENT SETNAME | GETNAME | ID | INFO | SETINFO | NO-EVICT | KILL | LIST | HELP: the connection's
// own name, id, state and library info, and the other clients (client-kill.ts).

import type { CommandContext } from '../../command-context.js';
import { array, bulkOrNull, error, integer, OK, type RespValue, simple } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR, subcommandRefusal } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';
import { clientInfo, clientKill, clientList } from './client-kill.js';
import { INVALID_CLIENT_NAME, isValidClientName } from './client-name.js';

type Subcommand = {
  /** Redis's arity: exact when positive, at least -arity when negative. */
  readonly arity: number;
  readonly run: (ctx: CommandContext, args: readonly Buffer[]) => RespValue;
};

const HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <LIB-NAME|LIB-VER> <value>',
  '    Set client meta attr. Options are:',
  '    * LIB-NAME: the client lib name.',
  '    * LIB-VER: the client lib version.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * ID <client-id>',
  '      Kill connections by client id.',
  '    * MAXAGE <maxage>',
  '      Kill connections older than the specified age.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> ...]',
  '    Return information about client connections.',
  'NO-EVICT (ON|OFF)',
  '    Protection against client eviction: kvd evicts no client, so this changes nothing.',
  'HELP',
  '    Print this help.',
];

const SUBCOMMANDS = new Map<string, Subcommand>([
  [
    'setname',
    {
      arity: 3,
      run: (ctx, args) => {
        const name = args[2]!;
        if (!isValidClientName(name)) return error(INVALID_CLIENT_NAME);
        ctx.client.name = name.length > 0 ? name.toString('latin1') : undefined;
        return OK;
      },
    },
  ],
  ['getname', { arity: 2, run: (ctx) => bulkOrNull(ctx.client.name) }],
  ['id', { arity: 2, run: (ctx) => integer(ctx.client.id) }],
  [
    'setinfo',
    {
      arity: 4,
      run: (ctx, args) => {
        const attribute = keyword(args[2]!);
        const value = args[3]!;
        if (attribute !== 'lib-name' && attribute !== 'lib-ver') {
          return error(`ERR Unrecognized option '${args[2]!.toString('latin1')}'`);
        }
        if (!isValidClientName(value)) {
          return error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
        }
        if (attribute === 'lib-name') ctx.client.libName = value.toString('latin1');
        else ctx.client.libVersion = value.toString('latin1');
        return OK;
      },
    },
  ],
  ['info', { arity: 2, run: clientInfo }],
  [
    'no-evict',
    {
      arity: 3,
      // kvd evicts no client (it has no maxmemory-clients), so either setting is already true.
      run: (_ctx, args) => (['on', 'off'].includes(keyword(args[2]!)) ? OK : SYNTAX_ERROR),
    },
  ],
  ['kill', { arity: -3, run: clientKill }],
  ['list', { arity: -2, run: clientList }],
  ['help', { arity: 2, run: () => array(HELP.map(simple)) }],
]);

/** Each subcommand's arity (CLIENT and the subcommand counted). */
const ARITIES: ReadonlyMap<string, number> = new Map(
  [...SUBCOMMANDS].map(([name, sub]) => [name, sub.arity]),
);

/** CLIENT. */
export const clientCommand: CommandSpec = {
  name: 'client',
  arity: -2,
  flags: ['no-script', 'loading', 'stale'],
  kind: 'none',
  keys: NO_KEYS,
  subcommands: ARITIES,
  handler: (ctx, args) => {
    const refused = subcommandRefusal('client', ARITIES, args);
    return refused ?? SUBCOMMANDS.get(keyword(args[1]!))!.run(ctx, args);
  },
};
