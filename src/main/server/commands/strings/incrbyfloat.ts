// INCRBYFLOAT key increment: adds a float to the key's value (a missing key counts as 0) in x87
// extended precision, as Redis does (extended-float.ts), stores and answers the result as Redis
// prints it. A read-modify-write through atomicallyInTurn(): no update is lost; the expiry is kept.

import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { bulk, error, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import {
  addExtended,
  type ExtendedFloat,
  formatExtended,
  INFINITE,
  parseExtended,
} from './extended-float.js';

const NOT_A_FLOAT = error('ERR value is not a valid float');
const NAN_OR_INFINITY = error('ERR increment would produce NaN or Infinity');
const ZERO: ExtendedFloat = { negative: false, significand: 0n, exponent: 0 };

async function incrbyfloat(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const key = args[1]!;
  return atomicallyInTurn(ctx.store, [key], ([entry]) => {
    const current = entry === undefined ? ZERO : parseExtended(entry.value);
    const increment = parseExtended(args[2]!);
    if (current === undefined || increment === undefined) return { writes: [], reply: NOT_A_FLOAT };
    if (current === INFINITE || increment === INFINITE) {
      return { writes: [], reply: NAN_OR_INFINITY };
    }
    const sum = addExtended(current, increment);
    if (sum === INFINITE) return { writes: [], reply: NAN_OR_INFINITY };
    const text = formatExtended(sum);
    return {
      writes: [{ type: 'set', key, value: text, expiresAt: entry?.expiresAt ?? 0 }],
      reply: bulk(text),
    };
  });
}

/** INCRBYFLOAT. */
export const incrbyfloatCommand: CommandSpec = {
  name: 'incrbyfloat',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  kind: 'exclusive', // reads after the connection's earlier requests have settled
  keys: [1, 1, 1],
  handler: incrbyfloat,
  summary: "Adds a floating-point number to a key's value.",
};
