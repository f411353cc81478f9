// BITOP AND|OR|XOR|NOT destkey key [key ...]: combines the sources byte by byte (a shorter or
// missing source counts as zero bytes) into destkey, as long as the longest source; answers that
// length. An empty result deletes destkey. Through atomicallyInTurn(): the sources are read with
// their versions and destkey is written only if none changed meanwhile. destkey loses any expiry.

import { Buffer } from 'node:buffer';
import type { BatchOp } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

const NOT_ONE_SOURCE = error('ERR BITOP NOT must be called with a single source key.');

type Operation = 'and' | 'or' | 'xor' | 'not';
const OPERATIONS: readonly string[] = ['and', 'or', 'xor', 'not'];

/** The sources combined by `operation` (pure). */
export function combine(operation: Operation, sources: readonly Uint8Array[]): Buffer {
  const length = sources.reduce((longest, source) => Math.max(longest, source.length), 0);
  const result = Buffer.alloc(length);
  if (operation === 'not') {
    const source = sources[0]!;
    for (let i = 0; i < length; i++) result[i] = ~source[i]! & 0xff;
    return result;
  }
  for (let i = 0; i < length; i++) {
    let byte = sources[0]![i] ?? 0;
    for (let s = 1; s < sources.length; s++) {
      const other = sources[s]![i] ?? 0;
      if (operation === 'and') byte &= other;
      else if (operation === 'or') byte |= other;
      else byte ^= other;
    }
    result[i] = byte;
  }
  return result;
}

async function bitop(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const operation = keyword(args[1]!);
  if (!OPERATIONS.includes(operation)) return SYNTAX_ERROR;
  const sources = args.slice(3);
  if (operation === 'not' && sources.length !== 1) return NOT_ONE_SOURCE;
  const destination = args[2]!;
  return atomicallyInTurn(
    ctx.store,
    sources,
    (entries) => {
      const values = entries.map((entry) => entry?.value ?? Buffer.alloc(0));
      const result = combine(operation as Operation, values);
      const write: BatchOp =
        result.length === 0
          ? { type: 'delete', key: destination }
          : { type: 'set', key: destination, value: result };
      return { writes: [write], reply: integer(result.length) };
    },
    [destination],
  );
}

/** BITOP. */
export const bitopCommand: CommandSpec = {
  name: 'bitop',
  arity: -4,
  flags: ['write', 'denyoom'],
  kind: 'exclusive', // reads after the connection's earlier requests have settled
  keys: [2, -1, 1],
  handler: bitop,
  summary: 'Combines values bit by bit (AND, OR, XOR, NOT) into a key.',
};
