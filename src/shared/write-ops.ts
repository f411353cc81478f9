// Owns the caller-to-writer encoding of read-modify-write operations (increment, append,
// conditional set, get-and-delete, expiry changes). They travel in the same per-tick buffer as
// plain records, laid out like records but with an operation type; the writer evaluates each
// one against the current value, in order with the writes around it, and appends the plain
// record it produces. Operation types never reach the disk (FORMAT.md knows only 1-4). Also the
// version checks of a conditional batch, and the reap of a key a read found expired.

import { Buffer } from 'node:buffer';
import type { SerializedError } from './errors.js';

/**
 * Operation type of an increment (`Store.incrBy`): the record type byte of the operation in a
 * submission; its value is the delta as decimal ASCII.
 */
export const OP_INCRBY = 0x81;
/** Operation type of an append (`Store.append`); value: the bytes to append. */
export const OP_APPEND = 0x82;
/**
 * Operation type of a conditional set (`Store.setWith`); value: the new value; flags: `SET_*`;
 * expiresAt: the new expiry.
 */
export const OP_SET = 0x83;
/** Operation type of a get-and-delete (`Store.getDelete`); no value. */
export const OP_GETDEL = 0x84;
/**
 * Operation type of an expiry change (`Store.expire`, `Store.persist`); expiresAt: the new
 * expiry (0 removes it: persist); flags: `EXPIRE_*`.
 */
export const OP_EXPIRE = 0x85;
/** Operation type of a clear (`Store.clear`); no key, no value: deletes every key, atomically. */
export const OP_CLEAR = 0x86;
/**
 * Operation type of a version check (`Store.batch` with `ifVersions` or `ifAbsentSince`): value:
 * the version the key must still have, as a u64 (8 bytes), or nothing if the key must still be
 * absent; with flag CHECK_ABSENT_SINCE, a sequence number (u64) the key must have had no value
 * after. A failed check fails the atomic batch that follows it in the same submission with
 * `KV_CONFLICT`.
 */
export const OP_CHECK = 0x87;
/**
 * Operation type of a reap: delete the key if its current record has expired (a read found it
 * expired; the writer checks again, so a newer write is never deleted). No value.
 */
export const OP_REAP = 0x88;

/**
 * Flag of OP_CHECK: the key must be absent and have had no value since the sequence number in
 * the value (no write after it was removed again: removal-log.ts).
 */
export const CHECK_ABSENT_SINCE = 1;
/**
 * Flag of OP_CHECK: the check stands alone (`Store.batch` with no operations): a failure is its
 * own error and refuses nothing after it.
 */
export const CHECK_ALONE = 2;

/** Flag of OP_SET (in the flags byte): write only if the key has no value (NX). */
export const SET_IF_ABSENT = 1;
/** Flag of OP_SET: write only if the key has a value (XX). */
export const SET_IF_PRESENT = 2;
/** Flag of OP_SET: answer the value the key had (GET). */
export const SET_RETURN_PREVIOUS = 4;
/** Flag of OP_SET: keep the key's current expiry instead of the operation's (KEEPTTL). */
export const SET_KEEP_EXPIRY = 8;

/** Condition of OP_EXPIRE (in the flags byte), as EXPIRE NX: only if the key has no expiry. */
export const EXPIRE_IF_NONE = 1;
/** Condition of OP_EXPIRE, as XX: only if the key has an expiry. */
export const EXPIRE_IF_SET = 2;
/** Condition of OP_EXPIRE, as GT: only if later than the current one (none counts as never). */
export const EXPIRE_IF_LATER = 4;
/** Condition of OP_EXPIRE, as LT: only if earlier than the current one (none counts as never). */
export const EXPIRE_IF_EARLIER = 8;

/** The operation types, for validation. */
export type OpType =
  | typeof OP_INCRBY
  | typeof OP_APPEND
  | typeof OP_SET
  | typeof OP_GETDEL
  | typeof OP_EXPIRE
  | typeof OP_CLEAR
  | typeof OP_CHECK
  | typeof OP_REAP;

/** Whether a type byte is an operation rather than an on-disk record type. */
export function isOpType(type: number): type is OpType {
  return type >= OP_INCRBY && type <= OP_REAP;
}

/**
 * What the writer answers for one operation.
 * - OP_INCRBY: `integer` = the new value.
 * - OP_APPEND: `integer` = the new length in bytes.
 * - OP_SET: `applied` = whether it wrote; `previous` = the old value when SET_RETURN_PREVIOUS.
 * - OP_GETDEL: `previous` = the deleted value (undefined: there was none).
 * - OP_EXPIRE: `applied` = the key existed (and, when removing an expiry, had one).
 * - OP_CLEAR: `integer` = how many keys it deleted.
 * - OP_CHECK: `applied` = the key still has the version; else `error` is `KV_CONFLICT`.
 * - OP_REAP: `applied` = the key had expired and was deleted.
 */
export interface OpResult {
  readonly applied: boolean;
  readonly integer?: bigint;
  readonly previous?: Uint8Array;
  /** Set when the operation was refused (not an integer, too large, corruption): nothing changed. */
  readonly error?: SerializedError;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a value as a signed 64-bit decimal integer the way Redis does (no spaces, no '+', no
 * leading zeros), or returns undefined.
 */
export function parseInteger(bytes: Uint8Array): bigint | undefined {
  if (bytes.length > 20) return undefined; // never decode a long argument
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (!/^(0|-?[1-9][0-9]*)$/.test(text) || text.length > 20) return undefined;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** Whether `n` fits in a signed 64-bit integer. */
export function inInt64Range(n: bigint): boolean {
  return n >= INT64_MIN && n <= INT64_MAX;
}
