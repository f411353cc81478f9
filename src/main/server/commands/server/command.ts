// COMMAND [COUNT | INFO [name...] | LIST | DOCS [name...] | HELP]: the command table as Redis 7
// describes it, for redis-cli and client libraries; each command's description and docs are
// derived from its spec and family (command-docs.ts), so commands added later are described too.

import type { CommandContext } from '../../command-context.js';
import { array, bulk, error, integer, map, type RespValue, simple } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR, subcommandRefusal } from '../arguments.js';
import { arityAllows, type CommandSpec, NO_KEYS } from '../command-spec.js';
import { commandDocs, commandInfo } from './command-docs.js';

const NULL_ARRAY: RespValue = { kind: 'null-array' };
/** Subcommands and their arity (Redis's, name and subcommand included). */
const ARITIES: ReadonlyMap<string, number> = new Map([
  ['count', 2],
  ['list', -2],
  ['info', -2],
  ['docs', -2],
  ['getkeys', -4],
  ['help', 2],
]);
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
  '    Return documentation details about multiple commands.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'HELP',
  '    Print this help.',
];

function groupOf(ctx: CommandContext, name: string): string {
  return ctx.server.commandGroups.get(name) ?? 'generic';
}

function command(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const table = ctx.server.commands;
  const describe = (spec: CommandSpec): RespValue => commandInfo(spec, groupOf(ctx, spec.name));
  if (args.length === 1) return array([...table.values()].map(describe));
  const refused = subcommandRefusal('command', ARITIES, args);
  if (refused) return refused;
  const sub = keyword(args[1]!);
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
    case 'docs': {
      // Unknown names are left out, as Redis does.
      const names = args.length === 2 ? [...table.keys()] : args.slice(2).map(keyword);
      const entries: [RespValue, RespValue][] = [];
      for (const name of names) {
        const spec = table.get(name);
        if (spec) entries.push([bulk(name), commandDocs(spec, groupOf(ctx, name))]);
      }
      return map(entries);
    }
    case 'getkeys':
      return commandKeys(table.get(keyword(args[2]!)), args.slice(2));
    default:
      return array(HELP.map(simple));
  }
}

/** COMMAND GETKEYS: the keys `request` (a full command) names, by its spec's key positions. */
function commandKeys(spec: CommandSpec | undefined, request: readonly Buffer[]): RespValue {
  // A container is looked up with its subcommand (OBJECT ENCODING), as Redis does.
  const arity = spec?.subcommands ? spec.subcommands.get(keyword(request[1]!)) : spec?.arity;
  if (!spec || arity === undefined) return error('ERR Invalid command specified');
  const [first, last, step] = spec.keys;
  if (first === 0) return error('ERR The command has no key arguments');
  if (!arityAllows(arity, request.length))
    return error('ERR Invalid number of arguments specified for command');
  const end = last < 0 ? request.length + last : last;
  const keys: RespValue[] = [];
  for (let i = first; i <= end && i < request.length; i += step) keys.push(bulk(request[i]!));
  return array(keys);
}

/** COMMAND. */
export const commandCommand: CommandSpec = {
  name: 'command',
  arity: -1,
  flags: ['loading', 'stale'],
  kind: 'none',
  keys: NO_KEYS,
  handler: command,
  subcommands: ARITIES,
  summary: 'Returns detailed information about the commands of the server.',
};
