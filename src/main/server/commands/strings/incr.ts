// INCR, DECR, INCRBY and DECRBY: atomic integer arithmetic, applied by the writer in order with
// every other write (`Store.incrBy`). The stored value must be a base-10 signed 64-bit integer;
// a missing key counts as 0; the key's expiry is kept.

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

const INT64_MIN = -(2n ** 63n);
const DECREMENT_OVERFLOW = error('ERR decrement would overflow');

async function add(ctx: CommandContext, key: Buffer, delta: bigint): Promise<RespValue> {
  return integer(await ctx.store.incrBy(key, delta));
}

function counter(
  name: string,
  arity: number,
  delta: (args: readonly Buffer[]) => bigint | RespValue,
): CommandSpec {
  return {
    name,
    arity,
    flags: ['write', 'denyoom', 'fast'],
    kind: 'write',
    keys: [1, 1, 1],
    handler: (ctx, args) => {
      const d = delta(args);
      return typeof d === 'bigint' ? add(ctx, args[1]!, d) : d;
    },
  };
}

/** INCR key. */
export const incrCommand = counter('incr', 2, () => 1n);
/** DECR key. */
export const decrCommand = counter('decr', 2, () => -1n);
/** INCRBY key increment. */
export const incrbyCommand = counter(
  'incrby',
  3,
  (args) => parseInteger(args[2]!) ?? NOT_AN_INTEGER,
);
/** DECRBY key decrement. */
export const decrbyCommand = counter('decrby', 3, (args) => {
  const d = parseInteger(args[2]!);
  if (d === undefined) return NOT_AN_INTEGER;
  return d === INT64_MIN ? DECREMENT_OVERFLOW : -d;
});
