// FUNCTION FLUSH [ASYNC|SYNC] and FUNCTION HELP: kvd keeps no function libraries, so FLUSH has
// nothing to delete and answers +OK. Every other FUNCTION subcommand (LOAD, LIST, DELETE, DUMP,
// RESTORE, STATS, KILL) answers that kvd runs no functions.

import type { CommandContext } from '../../command-context.js';
import { array, error, OK, type RespValue, simple } from '../../resp-value.js';
import { keyword, unknownSubcommand, wrongArity } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';
import { scriptsNotSupported } from './eval.js';

const HELP = [
  'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'FLUSH [ASYNC|SYNC]',
  '    Does nothing: kvd keeps no function libraries (it runs no functions).',
  'HELP',
  '    Print this help.',
];
const FLUSH_OPTION = error('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
const OTHERS = new Set(['load', 'list', 'delete', 'dump', 'restore', 'stats', 'kill']);

function fn(_ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const sub = keyword(args[1]!);
  if (sub === 'help')
    return args.length === 2 ? array(HELP.map(simple)) : wrongArity('function|help');
  if (sub === 'flush') {
    if (args.length > 3) return wrongArity('function|flush');
    if (args.length === 2) return OK;
    const mode = keyword(args[2]!);
    return mode === 'sync' || mode === 'async' ? OK : FLUSH_OPTION;
  }
  if (OTHERS.has(sub)) return scriptsNotSupported(`FUNCTION ${sub.toUpperCase()}`);
  return unknownSubcommand('function', args[1]!);
}

/** FUNCTION. */
export const functionCommand: CommandSpec = {
  name: 'function',
  arity: -2,
  flags: ['noscript'],
  kind: 'none',
  keys: NO_KEYS,
  handler: fn,
  summary:
    'FUNCTION FLUSH does nothing (kvd keeps no functions); the other subcommands are refused.',
};
