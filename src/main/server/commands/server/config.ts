// CONFIG GET parameter [parameter ...]: a few read-only settings under Redis's names, enough for
// tools that ask (redis-benchmark asks for `save` and `appendonly`). Patterns are globs. kvd's
// settings come from its flags: CONFIG SET and the other subcommands are not supported.

import type { CommandContext } from '../../command-context.js';
import { globMatch } from '../../glob.js';
import { array, bulk, map, type RespValue, simple } from '../../resp-value.js';
import { keyword, unknownSubcommand, wrongArity } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'HELP',
  '    Print this help.',
];

/** The parameters CONFIG GET knows, with their values. */
function parameters(ctx: CommandContext): [string, string][] {
  const s = ctx.server.settings;
  return [
    ['appendonly', 'yes'], // kvd is a log: every write is appended
    ['appendfsync', s.durability],
    ['bind', s.host ?? ''],
    ['databases', '1'],
    ['maxclients', String(s.maxClients)],
    ['port', String(s.port ?? 0)],
    ['proto-max-bulk-len', String(s.maxBulkBytes)],
    ['save', ''],
    ['timeout', String(s.idleTimeoutSeconds)],
    ['unixsocket', s.unixPath ?? ''],
  ];
}

function config(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const sub = keyword(args[1]!);
  if (sub === 'help' && args.length === 2) return array(HELP.map(simple));
  if (sub !== 'get') return unknownSubcommand('config', args[1]!);
  if (args.length < 3) return wrongArity('config|get');
  const patterns = args
    .slice(2)
    .map((p) => Buffer.from(p.toString('latin1').toLowerCase(), 'latin1'));
  const found = parameters(ctx).filter(([name]) =>
    patterns.some((pattern) => globMatch(pattern, Buffer.from(name, 'latin1'))),
  );
  return map(found.map(([name, value]) => [bulk(name), bulk(value)]));
}

/** CONFIG. */
export const configCommand: CommandSpec = {
  name: 'config',
  arity: -2,
  flags: ['admin', 'loading', 'stale'],
  kind: 'none',
  keys: NO_KEYS,
  handler: config,
};
