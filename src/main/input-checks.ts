// Owns validating the Store API's input once, on the caller's thread, before anything is
// queued: keys and values must be strings or bytes within the size limits, expiries must be
// whole milliseconds. Each check throws a `KvError` with the code the README lists.

import { KvError } from '../shared/errors.js';
import { byteLength } from '../shared/key-bytes.js';
import type { Bytes } from './store-types.js';

/** Throws `KV_INVALID_ARGUMENT` unless `key` is a string or bytes, `KV_KEY_TOO_LARGE` past `maxKeyBytes`. */
export function checkKey(key: unknown, maxKeyBytes: number): asserts key is Bytes {
  if (typeof key === 'string') {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes: short strings need no byte count.
    if (key.length * 3 <= maxKeyBytes) return;
  } else if (!(key instanceof Uint8Array)) {
    throw new KvError('KV_INVALID_ARGUMENT', 'a key must be a string or a Uint8Array');
  }
  const n = byteLength(key);
  if (n > maxKeyBytes) {
    throw new KvError('KV_KEY_TOO_LARGE', `key of ${n} bytes exceeds maxKeyBytes (${maxKeyBytes})`);
  }
}

/** Throws `KV_INVALID_ARGUMENT` unless `value` is a string or bytes, `KV_VALUE_TOO_LARGE` past `maxValueBytes`. */
export function checkValue(value: unknown, maxValueBytes: number): asserts value is Bytes {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new KvError('KV_INVALID_ARGUMENT', 'a value must be a string or a Uint8Array');
  }
  const n = byteLength(value);
  if (n > maxValueBytes) {
    throw new KvError(
      'KV_VALUE_TOO_LARGE',
      `value of ${n} bytes exceeds maxValueBytes (${maxValueBytes})`,
    );
  }
}

/** Throws `KV_INVALID_ARGUMENT` unless `expiresAt` is a whole, non-negative number of ms. */
export function checkExpiry(expiresAt: number): void {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      'expiresAt must be a non-negative integer (ms since the epoch)',
    );
  }
}
