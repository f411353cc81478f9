// Owns turning the options of the Store's read-modify-write operations into the writer's
// operation arguments (src/shared/write-ops.ts): SET's condition flags, EXPIRE's condition
// flags (refusing combinations Redis refuses), the checks on INCRBY's delta and EXPIRE's
// time, and the refusal of an option a write method does not know (`set`, `setWith`, `batch`).
// Caller's thread; each check throws `KV_INVALID_ARGUMENT`.

import { KvError } from '../shared/errors.js';
import {
  EXPIRE_IF_EARLIER,
  EXPIRE_IF_LATER,
  EXPIRE_IF_NONE,
  EXPIRE_IF_SET,
  SET_IF_ABSENT,
  SET_IF_PRESENT,
  SET_KEEP_EXPIRY,
  SET_RETURN_PREVIOUS,
} from '../shared/write-ops.js';
import type { ExpireCondition, SetWithOptions } from './store-types.js';
import { refuseUnknown } from './unknown-options.js';

/** The options `set` takes. */
export const SET_OPTION_NAMES: readonly string[] = ['expiresAt'];
/** The options `setWith` takes. */
export const SET_WITH_OPTION_NAMES: readonly string[] = [
  'ifAbsent',
  'ifPresent',
  'returnPrevious',
  'keepExpiry',
  'expiresAt',
] satisfies readonly (keyof SetWithOptions)[];

/**
 * Throws `KV_INVALID_ARGUMENT` unless `options` is undefined or an object whose every own key is
 * in `known` (a misspelt option, such as `ttl` for `expiresAt`, would otherwise be dropped).
 */
export function checkOptionNames(options: unknown, known: readonly string[], method: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new KvError('KV_INVALID_ARGUMENT', `${method} options must be an object`);
  }
  refuseUnknown(options, known, '', `${method} option`);
}

/** The OP_SET flags for `setWith`'s options. */
export function setWithFlags(options: SetWithOptions): number {
  let flags = 0;
  if (options.ifAbsent) flags |= SET_IF_ABSENT;
  if (options.ifPresent) flags |= SET_IF_PRESENT;
  if (options.returnPrevious) flags |= SET_RETURN_PREVIOUS;
  if (options.keepExpiry) flags |= SET_KEEP_EXPIRY;
  return flags;
}

/** Throws unless `delta` is a safe integer number or a bigint. */
export function checkDelta(delta: unknown): void {
  if (typeof delta === 'number' ? !Number.isSafeInteger(delta) : typeof delta !== 'bigint') {
    throw new KvError('KV_INVALID_ARGUMENT', 'delta must be an integer');
  }
}

/** Throws unless `expiresAt` is a positive integer (ms since the epoch). */
export function checkExpiresAt(expiresAt: number): void {
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      'expiresAt must be a positive integer (ms since the epoch)',
    );
  }
}

const EXPIRE_FLAGS: Record<ExpireCondition, number> = {
  NX: EXPIRE_IF_NONE,
  XX: EXPIRE_IF_SET,
  GT: EXPIRE_IF_LATER,
  LT: EXPIRE_IF_EARLIER,
};

/** The OP_EXPIRE flags for the conditions; throws `KV_INVALID_ARGUMENT` for combinations Redis refuses. */
export function expireFlags(
  condition: ExpireCondition | readonly ExpireCondition[] | undefined,
): number {
  const list: readonly ExpireCondition[] =
    condition === undefined ? [] : typeof condition === 'string' ? [condition] : condition;
  let flags = 0;
  for (const c of list) {
    const flag = EXPIRE_FLAGS[c];
    if (flag === undefined)
      throw new KvError('KV_INVALID_ARGUMENT', `unknown expire condition ${String(c)}`);
    flags |= flag;
  }
  if (flags & EXPIRE_IF_NONE && flags !== EXPIRE_IF_NONE) {
    throw new KvError('KV_INVALID_ARGUMENT', 'NX cannot be combined with XX, GT or LT');
  }
  if (flags & EXPIRE_IF_LATER && flags & EXPIRE_IF_EARLIER) {
    throw new KvError('KV_INVALID_ARGUMENT', 'GT and LT cannot be combined');
  }
  return flags;
}
