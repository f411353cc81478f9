// SETRANGE key offset value: overwrites the value from byte `offset` (zero-padding a shorter or
// missing value) and answers the new length; an empty `value` changes nothing and answers the
// current length. Through atomicallyInTurn(), keeping the key's expiry. The result is bounded by
// proto-max-bulk-len (Redis's error) and by the store's maxValueBytes (KV_VALUE_TOO_LARGE).

import { Buffer } from 'node:buffer';
import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';
import { exceedsBulkLimit, STRING_TOO_LONG } from './string-limit.js';

const OFFSET_OUT_OF_RANGE = error('ERR offset is out of range');

async function setrange(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const offset = parseInteger(args[2]!);
  if (offset === undefined) return NOT_AN_INTEGER;
  if (offset < 0n) return OFFSET_OUT_OF_RANGE;
  const key = args[1]!;
  const patch = args[3]!;
  return atomicallyInTurn(ctx.store, [key], ([entry]) => {
    const current = entry?.value;
    if (patch.length === 0) return { writes: [], reply: integer(current?.length ?? 0) };
    const end = offset + BigInt(patch.length);
    if (end > BigInt(Number.MAX_SAFE_INTEGER) || exceedsBulkLimit(ctx, Number(end))) {
      return { writes: [], reply: STRING_TOO_LONG };
    }
    const length = Math.max(current?.length ?? 0, Number(end));
    const value = Buffer.alloc(length);
    current?.copy(value);
    patch.copy(value, Number(offset));
    return {
      writes: [{ type: 'set', key, value, expiresAt: entry?.expiresAt ?? 0 }],
      reply: integer(length),
    };
  });
}

/** SETRANGE. */
export const setrangeCommand: CommandSpec = {
  name: 'setrange',
  arity: 4,
  flags: ['write', 'denyoom'],
  kind: 'exclusive', // reads after the connection's earlier requests have settled
  keys: [1, 1, 1],
  handler: setrange,
  summary: "Overwrites part of a key's value from a byte offset.",
};
