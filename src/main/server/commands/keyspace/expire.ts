// EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT key time: sets the key's expiry, stored durably in its
// record (`Store.expire`, applied by the writer); a time already past deletes the key. Answers 1
// if the expiry was set, else 0 (no such key, or an NX/XX/GT/LT condition failed).

import type { ExpireCondition } from '../../../index.js';
import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { error, integer, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

async function setExpiry(
  ctx: CommandContext,
  key: Buffer,
  at: number,
  conditions: readonly ExpireCondition[],
): Promise<RespValue> {
  return integer((await ctx.store.expire(key, at, conditions)) ? 1 : 0);
}

const NX_INCOMPATIBLE = error(
  'ERR NX and XX, GT or LT options at the same time are not compatible',
);
const GT_LT_INCOMPATIBLE = error('ERR GT and LT options at the same time are not compatible');

/** Parses EXPIRE's options (Redis's rules and error texts); a RespValue is an error to answer. */
function parseConditions(options: readonly Buffer[]): ExpireCondition[] | RespValue {
  const seen = new Set<ExpireCondition>();
  for (const option of options) {
    const name = option.toString('latin1').toUpperCase();
    if (name !== 'NX' && name !== 'XX' && name !== 'GT' && name !== 'LT') {
      return error(`ERR Unsupported option ${option.toString('latin1')}`);
    }
    seen.add(name);
  }
  if (seen.has('NX') && seen.size > 1) return NX_INCOMPATIBLE;
  if (seen.has('GT') && seen.has('LT')) return GT_LT_INCOMPATIBLE;
  return [...seen];
}

function expireCommand(
  name: string,
  unitMs: bigint,
  absolute: boolean,
  summary: string,
): CommandSpec {
  const invalid = error(`ERR invalid expire time in '${name}' command`);
  return {
    name,
    arity: -3,
    flags: ['write', 'fast'],
    kind: 'write',
    keys: [1, 1, 1],
    summary,
    handler: (ctx, args) => {
      // Redis's order: the options' errors before the time's.
      const conditions = parseConditions(args.slice(3));
      if (!Array.isArray(conditions)) return conditions;
      const amount = parseInteger(args[2]!);
      if (amount === undefined) return NOT_AN_INTEGER;
      let at = amount * unitMs;
      if (!absolute) at += BigInt(Date.now());
      if (at > BigInt(Number.MAX_SAFE_INTEGER) || at < -BigInt(Number.MAX_SAFE_INTEGER)) {
        return invalid;
      }
      // Any time at or before the epoch is simply in the past: the key is deleted.
      return setExpiry(ctx, args[1]!, at <= 0n ? 1 : Number(at), conditions);
    },
  };
}

/** EXPIRE key seconds. */
export const expireSecondsCommand = expireCommand(
  'expire',
  1000n,
  false,
  'Sets the expiry of a key in seconds from now.',
);
/** PEXPIRE key milliseconds. */
export const pexpireCommand = expireCommand(
  'pexpire',
  1n,
  false,
  'Sets the expiry of a key in milliseconds from now.',
);
/** EXPIREAT key unix-time-seconds. */
export const expireatCommand = expireCommand(
  'expireat',
  1000n,
  true,
  'Sets the expiry of a key to a Unix time in seconds.',
);
/** PEXPIREAT key unix-time-milliseconds. */
export const pexpireatCommand = expireCommand(
  'pexpireat',
  1n,
  true,
  'Sets the expiry of a key to a Unix time in milliseconds.',
);
