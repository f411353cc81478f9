// COMMAND [COUNT | INFO name... | LIST | DOCS [name...] | HELP]: the command table as Redis
// describes it, enough for redis-cli and client libraries. DOCS answers an empty reply (kvd
// ships no command documentation), which redis-cli accepts.

import type { CommandContext } from '../../command-context.js';
import { array, bulk, integer, map, type RespValue, simple } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR, unknownSubcommand, wrongArity } from '../arguments.js';
import { arityAllows, type CommandSpec, NO_KEYS } from '../command-spec.js';

const NULL_ARRAY: RespValue = { kind: 'null-array' };
const HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all commands.',
  'COUNT',
  '    Return the total number of commands in this server.',
  'LIST',
  '    Return a list of all commands in this server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple commands.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple commands (none in kvd).',
  'HELP',
  '    Print this help.',
];

/** One command as Redis 7 describes it: name, arity, flags, key positions, then empty extras. */
function describe(spec: CommandSpec): RespValue {
  const [first, last, step] = spec.keys;
  return array([
    bulk(spec.name),
    integer(spec.arity),
    array(spec.flags.map(simple)),
    integer(first),
    integer(last),
    integer(step),
    array([]), // ACL categories
    array([]), // tips
    array([]), // key specs
    array([]), // subcommands
  ]);
}

function command(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const table = ctx.server.commands;
  if (args.length === 1) return array([...table.values()].map(describe));
  const sub = keyword(args[1]!);
  const arities: Record<string, number> = { count: 2, list: -2, info: -2, docs: -2, help: 2 };
  const arity = arities[sub];
  if (arity === undefined) return unknownSubcommand('command', args[1]!);
  if (!arityAllows(arity, args.length)) return wrongArity(`command|${sub}`);
  switch (sub) {
    case 'count':
      return integer(table.size);
    case 'list':
      return args.length === 2 ? array([...table.keys()].map((name) => bulk(name))) : SYNTAX_ERROR;
    case 'info': {
      const names = args.length === 2 ? [...table.keys()] : args.slice(2).map(keyword);
      return array(
        names.map((name) => {
          const spec = table.get(name);
          return spec ? describe(spec) : NULL_ARRAY;
        }),
      );
    }
    case 'docs':
      return map([]);
    default:
      return array(HELP.map(simple));
  }
}

/** COMMAND. */
export const commandCommand: CommandSpec = {
  name: 'command',
  arity: -1,
  flags: ['loading', 'stale'],
  kind: 'none',
  keys: NO_KEYS,
  handler: command,
};
