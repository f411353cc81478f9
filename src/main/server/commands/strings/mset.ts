// MSET key value [key value ...]: sets every pair as one atomic batch (all or none, even across
// a crash); `+OK`.

import type { BatchOp } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { OK, type RespValue } from '../../resp-value.js';
import { wrongArity } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

async function mset(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  if (args.length % 2 === 0) return wrongArity('mset');
  const ops: BatchOp[] = [];
  for (let i = 1; i < args.length; i += 2) {
    ops.push({ type: 'set', key: args[i]!, value: args[i + 1]! });
  }
  await ctx.store.batch(ops);
  return OK;
}

/** MSET. */
export const msetCommand: CommandSpec = {
  name: 'mset',
  arity: -3,
  flags: ['write', 'denyoom'],
  kind: 'write',
  keys: [1, -1, 2],
  handler: mset,
};
