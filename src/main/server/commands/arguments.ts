// Owns reading command arguments: case-insensitive keywords, and the error replies whose wording
// clients and tests rely on. Integers are read with the package's `parseInteger` (Redis's strict
// string2ll syntax, the one the store's `incrBy` applies to values).

import { Buffer } from 'node:buffer';
import { KvError, type Logger } from '../../index.js';
import { error, errorOfBytes, type RespValue } from '../resp-value.js';
import { arityAllows } from './command-spec.js';
import { NOT_AN_INTEGER, SYNTAX_ERROR } from './error-replies.js';
import { keyword } from './keyword.js';

export { keyword, NOT_AN_INTEGER, SYNTAX_ERROR };

/** `-ERR wrong number of arguments for '<name>' command` (name as in the table, lower case). */
export function wrongArity(name: string): RespValue {
  return error(`ERR wrong number of arguments for '${name}' command`);
}

/**
 * Redis's reply to an unknown command: the name (up to 128 bytes) and the first arguments
 * (each quoted and followed by a space, up to 128 bytes in all), NUL ending each as in C, the
 * client's bytes echoed as they came (not decoded as UTF-8).
 */
export function unknownCommand(args: readonly Uint8Array[]): RespValue {
  let listed = '';
  for (let i = 1; i < args.length && listed.length < 128; i++) {
    listed += `'${cString(args[i]!).slice(0, 128 - listed.length)}' `;
  }
  return errorOfBytes(
    `ERR unknown command '${cString(args[0]!).slice(0, 128)}', with args beginning with: ${listed}`,
  );
}

/**
 * Redis's refusal of a request for `name` whose argument count its arity does not allow: the
 * wrong-arity error, but for EXEC `-EXECABORT Transaction discarded because of: …`, as Redis
 * answers it (the transaction, if one is open, is discarded: queueing.ts).
 */
export function arityRefusal(name: string): RespValue {
  const refusal = `wrong number of arguments for '${name}' command`;
  return error(
    name === 'exec' ? `EXECABORT Transaction discarded because of: ${refusal}` : `ERR ${refusal}`,
  );
}

/** Redis's reply to an unknown subcommand of `container` (CLIENT, COMMAND). */
export function unknownSubcommand(container: string, sub: Uint8Array): RespValue {
  return errorOfBytes(
    `ERR unknown subcommand '${cString(sub).slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`,
  );
}

/** The store's `KV_NOT_INTEGER` message for an INCRBY whose result would pass 64 bits. */
const OVERFLOW_MESSAGE = 'increment or decrement would overflow';
/** Redis's `-ERR increment or decrement would overflow`. */
const INCREMENT_OVERFLOW = error(`ERR ${OVERFLOW_MESSAGE}`);

/**
 * Redis's refusal of a container's subcommand (`args[1]`) that `subcommands` (each one's arity)
 * does not know, or whose arity `args` does not meet; undefined if it may run (or `args` names
 * no subcommand).
 */
export function subcommandRefusal(
  container: string,
  subcommands: ReadonlyMap<string, number>,
  args: readonly Buffer[],
): RespValue | undefined {
  if (args.length < 2) return undefined;
  const sub = keyword(args[1]!);
  const arity = subcommands.get(sub);
  if (arity === undefined) return unknownSubcommand(container, args[1]!);
  return arityAllows(arity, args.length) ? undefined : wrongArity(`${container}|${sub}`);
}

/**
 * The error reply for a failed handler: a `KvError` as `-CODE message` (but `KV_NOT_INTEGER` as
 * Redis's `-ERR value is not an integer or out of range`, or its `-ERR increment or decrement
 * would overflow` for a result past 64 bits); anything else is a bug,
 * logged to `log` and answered `-ERR internal error`.
 */
export function errorReply(cause: unknown, log: Logger): RespValue {
  // INCR and friends on a non-integer: Redis's own words, which clients recognise.
  if (cause instanceof KvError && cause.code === 'KV_NOT_INTEGER')
    return cause.message === OVERFLOW_MESSAGE ? INCREMENT_OVERFLOW : NOT_AN_INTEGER;
  if (cause instanceof KvError) return error(`${cause.code} ${cause.message}`);
  log.error({ err: cause }, 'command failed unexpectedly');
  return error('ERR internal error (see the server log)');
}

function cString(arg: Uint8Array): string {
  const nul = arg.indexOf(0);
  const bytes = nul >= 0 ? arg.subarray(0, nul) : arg;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
