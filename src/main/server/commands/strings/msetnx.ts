// MSETNX key value [key value ...]: sets every pair only if none of the keys has a value; answers
// 1 if it set them, 0 if it set none. Through atomicallyInTurn(): the keys' absence is checked
// by the writer in line with the batch, so it is all or nothing even against concurrent writers.

import type { BatchOp } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { integer, type RespValue } from '../../resp-value.js';
import { wrongArity } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

async function msetnx(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  if (args.length % 2 === 0) return wrongArity('msetnx');
  const keys: Buffer[] = [];
  const writes: BatchOp[] = [];
  for (let i = 1; i < args.length; i += 2) {
    keys.push(args[i]!);
    writes.push({ type: 'set', key: args[i]!, value: args[i + 1]! });
  }
  return atomicallyInTurn(ctx.store, keys, (entries) =>
    entries.some((entry) => entry !== undefined)
      ? { writes: [], reply: integer(0) }
      : { writes, reply: integer(1) },
  );
}

/** MSETNX. */
export const msetnxCommand: CommandSpec = {
  name: 'msetnx',
  arity: -3,
  flags: ['write', 'denyoom'],
  kind: 'exclusive', // reads after the connection's earlier requests have settled
  keys: [1, -1, 2],
  handler: msetnx,
  summary: 'Sets several keys, only if none of them exists (all or none).',
};
