// Owns refusing a request at lookup, before it runs or is queued, as Redis does: an unknown
// command, a wrong arity (EXEC's as EXECABORT), or a container's unknown subcommand or wrong
// subcommand arity; the first two counted in INFO commandstats. The connection and the network
// threads' remote requests (remote-command.ts) both refuse through it.

import type { CommandStats } from './command-stats.js';
import { countRefused } from './command-stats.js';
import { arityRefusal, subcommandRefusal, unknownCommand } from './commands/arguments.js';
import { arityAllows, type CommandSpec } from './commands/command-spec.js';
import type { RespValue } from './resp-value.js';

/** The error refusing `args` (for `spec`, undefined if unknown), or undefined if it may run. */
export function refusalAtLookup(
  stats: CommandStats,
  spec: CommandSpec | undefined,
  args: readonly Buffer[],
): RespValue | undefined {
  if (!spec) {
    stats.unknownCalls++;
    return unknownCommand(args);
  }
  if (!arityAllows(spec.arity, args.length)) {
    countRefused(stats.of(spec.name));
    return arityRefusal(spec.name);
  }
  return spec.subcommands ? subcommandRefusal(spec.name, spec.subcommands, args) : undefined;
}
