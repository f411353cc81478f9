// COPY source destination [DB destination-db] [REPLACE]: writes the source's value and expiry
// under the destination (only if it does not exist, unless REPLACE), as one batch conditioned on
// both keys' versions (`atomically`, in its turn on both keys), planned again if either changed
// in between; `exclusive`, like RENAME, so it sees the connection's earlier writes. kvd has one
// database: DB 0 is accepted, any other index is Redis's out-of-range error.

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import { keyword, NOT_AN_INTEGER, SYNTAX_ERROR } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

const DB_OUT_OF_RANGE = error('ERR DB index is out of range');
const SAME_OBJECT = error('ERR source and destination objects are the same');
const NOT_AN_INT32 = error('ERR value is out of range');
const INT32_MAX = 2n ** 31n - 1n;

/** Whether REPLACE was given, or the error to answer for the options (Redis's order of checks). */
function parseOptions(options: readonly Buffer[]): boolean | RespValue {
  let replace = false;
  for (let i = 0; i < options.length; i++) {
    const option = keyword(options[i]!);
    if (option === 'replace') {
      replace = true;
    } else if (option === 'db' && i + 1 < options.length) {
      const db = parseInteger(options[++i]!);
      if (db === undefined) return NOT_AN_INTEGER;
      if (db > INT32_MAX || db < -INT32_MAX - 1n) return NOT_AN_INT32;
      if (db !== 0n) return DB_OUT_OF_RANGE;
    } else {
      return SYNTAX_ERROR;
    }
  }
  return replace;
}

async function copy(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const replace = parseOptions(args.slice(3));
  if (typeof replace !== 'boolean') return replace;
  const source = args[1]!;
  const destination = args[2]!;
  if (source.equals(destination)) return SAME_OBJECT;
  return atomicallyInTurn(ctx.store, [source, destination], ([from, to]) => {
    if (from === undefined || (to !== undefined && !replace)) {
      return { writes: [], reply: integer(0) };
    }
    return {
      writes: [{ type: 'set', key: destination, value: from.value, expiresAt: from.expiresAt }],
      reply: integer(1),
    };
  });
}

/** COPY. */
export const copyCommand: CommandSpec = {
  name: 'copy',
  arity: -3,
  flags: ['write'],
  kind: 'exclusive',
  keys: [1, 2, 1],
  handler: copy,
  summary: 'Copies the value and expiry of a key to a new key (REPLACE: over an existing one).',
};
