// SCRIPT FLUSH [ASYNC|SYNC] and SCRIPT HELP: kvd keeps no script cache, so FLUSH has nothing to
// empty and answers +OK (tools and test suites flush before they start). Every other SCRIPT
// subcommand (LOAD, EXISTS, KILL, DEBUG) answers that kvd runs no scripts.

import type { CommandContext } from '../../command-context.js';
import { array, error, OK, type RespValue, simple } from '../../resp-value.js';
import { keyword, unknownSubcommand, wrongArity } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';
import { scriptsNotSupported } from './eval.js';

const HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'FLUSH [ASYNC|SYNC]',
  '    Does nothing: kvd keeps no script cache (it runs no scripts).',
  'HELP',
  '    Print this help.',
];
const FLUSH_OPTION = error('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
const OTHERS = new Set(['load', 'exists', 'kill', 'debug']);

function script(_ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const sub = keyword(args[1]!);
  if (sub === 'help')
    return args.length === 2 ? array(HELP.map(simple)) : wrongArity('script|help');
  if (sub === 'flush') {
    if (args.length === 2) return OK;
    const mode = keyword(args[2]!);
    return args.length === 3 && (mode === 'sync' || mode === 'async') ? OK : FLUSH_OPTION;
  }
  if (OTHERS.has(sub)) return scriptsNotSupported(`SCRIPT ${sub.toUpperCase()}`);
  return unknownSubcommand('script', args[1]!);
}

/** SCRIPT. */
export const scriptCommand: CommandSpec = {
  name: 'script',
  arity: -2,
  flags: ['noscript'],
  kind: 'none',
  keys: NO_KEYS,
  handler: script,
  summary: 'SCRIPT FLUSH does nothing (kvd keeps no scripts); the other subcommands are refused.',
};
