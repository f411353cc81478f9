// SETBIT key offset 0|1: sets one bit (growing the value with zero bytes as needed) and answers
// the bit it had. Through atomicallyInTurn(), keeping the key's expiry; the value must still fit
// the store's maxValueBytes (else KV_VALUE_TOO_LARGE).

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { parseBitOffset } from './bit-offset.js';
import { bitAt, grownCopy, writeBit } from './bit-string.js';

const BAD_BIT = error('ERR bit is not an integer or out of range');

async function setbit(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const offset = parseBitOffset(ctx.server.settings.maxBulkBytes, args[2]!);
  if (typeof offset !== 'number') return offset;
  const bit = parseInteger(args[3]!);
  if (bit !== 0n && bit !== 1n) return BAD_BIT;
  const key = args[1]!;
  return atomicallyInTurn(ctx.store, [key], ([entry]) => {
    const value = grownCopy(entry?.value, Math.floor(offset / 8) + 1);
    const previous = bitAt(value, offset);
    writeBit(value, offset, Number(bit));
    return {
      writes: [{ type: 'set', key, value, expiresAt: entry?.expiresAt ?? 0 }],
      reply: integer(previous),
    };
  });
}

/** SETBIT. */
export const setbitCommand: CommandSpec = {
  name: 'setbit',
  arity: 4,
  flags: ['write', 'denyoom'],
  kind: 'exclusive', // reads after the connection's earlier requests have settled
  keys: [1, 1, 1],
  handler: setbit,
  summary: "Sets or clears one bit of a key's value.",
};
