// EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT key time: sets the key's expiry, stored durably in its
// record (`Store.expire`, applied by the writer); a time already past deletes the key. Answers 1
// if the key exists, else 0. The NX/XX/GT/LT conditions are not supported yet (the Store's
// expire has no condition).

import type { CommandContext } from '../command-context.js';
import { error, integer, type RespValue } from '../resp-value.js';
import { NOT_AN_INTEGER, parseInt64 } from './arguments.js';
import type { CommandSpec } from './command-spec.js';

async function setExpiry(ctx: CommandContext, key: Buffer, at: number): Promise<RespValue> {
  return integer((await ctx.store.expire(key, at)) ? 1 : 0);
}

function expireCommand(name: string, unitMs: bigint, absolute: boolean): CommandSpec {
  const invalid = error(`ERR invalid expire time in '${name}' command`);
  const unsupported = error(
    `ERR ${name.toUpperCase()} options NX, XX, GT and LT are not supported yet`,
  );
  return {
    name,
    arity: -3,
    flags: ['write', 'fast'],
    kind: 'write',
    keys: [1, 1, 1],
    handler: (ctx, args) => {
      const amount = parseInt64(args[2]!);
      if (amount === undefined) return NOT_AN_INTEGER;
      if (args.length > 3) return unsupported;
      let at = amount * unitMs;
      if (!absolute) at += BigInt(Date.now());
      if (at > BigInt(Number.MAX_SAFE_INTEGER) || at < -BigInt(Number.MAX_SAFE_INTEGER)) {
        return invalid;
      }
      // Any time at or before the epoch is simply in the past: the key is deleted.
      return setExpiry(ctx, args[1]!, at <= 0n ? 1 : Number(at));
    },
  };
}

/** EXPIRE key seconds. */
export const expireSecondsCommand = expireCommand('expire', 1000n, false);
/** PEXPIRE key milliseconds. */
export const pexpireCommand = expireCommand('pexpire', 1n, false);
/** EXPIREAT key unix-time-seconds. */
export const expireatCommand = expireCommand('expireat', 1000n, true);
/** PEXPIREAT key unix-time-milliseconds. */
export const pexpireatCommand = expireCommand('pexpireat', 1n, true);
