// Owns reading the expiry argument of SET, SETEX, PSETEX and GETEX (EX/PX/EXAT/PXAT) into an
// absolute time, with Redis's errors: not an integer, or not positive ("invalid expire time").
// kvd also refuses a time past Number.MAX_SAFE_INTEGER ms (the year 287,396) as invalid.

import { parseInteger } from '../../../index.js';
import { error, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER } from '../arguments.js';

/** The expiry options and their unit in ms. */
export const EXPIRY_UNITS = { ex: 1000n, px: 1n, exat: 1000n, pxat: 1n } as const;
/** EX, PX, EXAT or PXAT, lower case. */
export type ExpiryOption = keyof typeof EXPIRY_UNITS;

/** Whether `option` (lower case) is EX, PX, EXAT or PXAT. */
export function isExpiryOption(option: string): option is ExpiryOption {
  return option in EXPIRY_UNITS;
}

/**
 * The absolute expiry in ms since the epoch that `amount` gives with `option` (EX and PX count
 * from `now`), or Redis's error reply: `-ERR value is not an integer or out of range`, or
 * `-ERR invalid expire time in '<command>' command` for zero, negative or too large. Pure.
 */
export function expiryFromArgument(
  command: string,
  option: ExpiryOption,
  amount: Uint8Array,
  now: number,
): number | RespValue {
  const parsed = parseInteger(amount);
  if (parsed === undefined) return NOT_AN_INTEGER;
  if (parsed <= 0n) return invalidExpire(command);
  let ms = parsed * EXPIRY_UNITS[option];
  if (option === 'ex' || option === 'px') ms += BigInt(now);
  return ms > BigInt(Number.MAX_SAFE_INTEGER) ? invalidExpire(command) : Number(ms);
}

function invalidExpire(command: string): RespValue {
  return error(`ERR invalid expire time in '${command}' command`);
}
