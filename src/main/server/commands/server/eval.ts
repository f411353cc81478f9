// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL and FCALL_RO: kvd runs no scripts or functions, so
// each answers a clear error (after Redis's arity check), instead of Redis's unknown-command one,
// so a client sees why. SCRIPT and FUNCTION (script.ts, function.ts) share the error.

import { error, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

/** The reply to a scripting command kvd does not run (`what`: the command as typed, upper case). */
export function scriptsNotSupported(what: string): RespValue {
  return error(`ERR ${what} is not supported: kvd runs no scripts or functions`);
}

function scriptingCommand(name: string, summary: string): CommandSpec {
  const refusal = scriptsNotSupported(name.toUpperCase());
  return {
    name,
    arity: -3,
    flags: ['noscript', 'stale', 'skip_monitor', 'no-mandatory-keys', 'movablekeys'],
    kind: 'none',
    keys: NO_KEYS,
    handler: () => refusal,
    summary,
  };
}

/** EVAL. */
export const evalCommand = scriptingCommand('eval', 'Not supported: kvd runs no scripts.');
/** EVALSHA. */
export const evalshaCommand = scriptingCommand('evalsha', 'Not supported: kvd runs no scripts.');
/** EVAL_RO. */
export const evalRoCommand = scriptingCommand('eval_ro', 'Not supported: kvd runs no scripts.');
/** EVALSHA_RO. */
export const evalshaRoCommand = scriptingCommand(
  'evalsha_ro',
  'Not supported: kvd runs no scripts.',
);
/** FCALL. */
export const fcallCommand = scriptingCommand('fcall', 'Not supported: kvd runs no functions.');
/** FCALL_RO. */
export const fcallRoCommand = scriptingCommand('fcall_ro', 'Not supported: kvd runs no functions.');
