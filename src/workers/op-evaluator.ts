// Owns what a read-modify-write operation (src/shared/write-ops.ts) does to a key: given the
// key's current value and expiry, the plain record to append (a put or a delete, or none) and
// the result to answer. Pure: the log writer reads the current value and appends the record.

import { KvError, serializeError } from '../shared/errors.js';
import {
  encodeBatchCommitValue,
  FLAG_IN_BATCH,
  RECORD_HEADER_BYTES,
  recordBytes,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
  writeRecordHeader,
} from '../shared/format.js';
import {
  EXPIRE_IF_EARLIER,
  EXPIRE_IF_LATER,
  EXPIRE_IF_NONE,
  EXPIRE_IF_SET,
  inInt64Range,
  OP_APPEND,
  OP_EXPIRE,
  OP_GETDEL,
  OP_INCRBY,
  OP_SET,
  type OpResult,
  parseInteger,
  SET_IF_ABSENT,
  SET_IF_PRESENT,
  SET_KEEP_EXPIRY,
  SET_RETURN_PREVIOUS,
} from '../shared/write-ops.js';

/** One operation as it arrived: its type, flags, key, argument bytes and expiry field. */
export interface Operation {
  readonly type: number;
  readonly flags: number;
  readonly key: Uint8Array;
  readonly argument: Uint8Array;
  readonly expiresAt: number;
}

/** The key's live value, if any (an expired record counts as absent). */
export interface CurrentValue {
  readonly value: Uint8Array;
  readonly expiresAt: number;
}

/** What to append (seq and CRC zero) and what to answer. */
export interface Evaluation {
  readonly record?: Uint8Array;
  readonly result: OpResult;
}

const EMPTY = new Uint8Array(0);

/**
 * Evaluates `op` against `current`. Refusals (a value that is not an integer, an overflow, a
 * result larger than `maxValueBytes`) come back as a result with `error` and no record.
 */
export function evaluate(
  op: Operation,
  current: CurrentValue | undefined,
  maxValueBytes: number,
  now: number,
): Evaluation {
  try {
    return evaluateOrThrow(op, current, maxValueBytes, now);
  } catch (error) {
    return { result: { applied: false, error: serializeError(error) } };
  }
}

function evaluateOrThrow(
  op: Operation,
  current: CurrentValue | undefined,
  maxValueBytes: number,
  now: number,
): Evaluation {
  switch (op.type) {
    case OP_INCRBY: {
      const delta = parseInteger(op.argument);
      const base = current ? parseInteger(current.value) : 0n;
      if (delta === undefined || base === undefined) {
        throw new KvError('KV_NOT_INTEGER', 'value is not an integer or out of range');
      }
      const next = base + delta;
      if (!inInt64Range(next))
        throw new KvError('KV_NOT_INTEGER', 'increment or decrement would overflow');
      const text = new TextEncoder().encode(next.toString());
      return {
        record: put(op.key, text, current?.expiresAt ?? 0),
        result: { applied: true, integer: next },
      };
    }
    case OP_APPEND: {
      const before = current?.value ?? EMPTY;
      const length = before.length + op.argument.length;
      if (length > maxValueBytes) {
        throw new KvError(
          'KV_VALUE_TOO_LARGE',
          `appending would make a value of ${length} bytes (maxValueBytes ${maxValueBytes})`,
        );
      }
      const value = new Uint8Array(length);
      value.set(before);
      value.set(op.argument, before.length);
      return {
        record: put(op.key, value, current?.expiresAt ?? 0),
        result: { applied: true, integer: BigInt(length) },
      };
    }
    case OP_SET: {
      const exists = current !== undefined;
      const previous = op.flags & SET_RETURN_PREVIOUS ? current?.value : undefined;
      const blocked =
        (op.flags & SET_IF_ABSENT && exists) || (op.flags & SET_IF_PRESENT && !exists);
      if (blocked) return { result: withPrevious({ applied: false }, previous) };
      const expiresAt = op.flags & SET_KEEP_EXPIRY ? (current?.expiresAt ?? 0) : op.expiresAt;
      return {
        record: put(op.key, op.argument, expiresAt),
        result: withPrevious({ applied: true }, previous),
      };
    }
    case OP_GETDEL: {
      if (!current) return { result: { applied: false } };
      return { record: tombstone(op.key), result: { applied: true, previous: current.value } };
    }
    case OP_EXPIRE: {
      if (!current) return { result: { applied: false } };
      if (op.expiresAt === 0) {
        // Remove the expiry: only a key that had one changes.
        if (current.expiresAt === 0) return { result: { applied: false } };
        return { record: put(op.key, current.value, 0), result: { applied: true } };
      }
      if (!expiryConditionHolds(op.flags, current.expiresAt, op.expiresAt)) {
        return { result: { applied: false } };
      }
      // An expiry already past deletes the key now, as Redis does.
      if (op.expiresAt <= now) return { record: tombstone(op.key), result: { applied: true } };
      return { record: put(op.key, current.value, op.expiresAt), result: { applied: true } };
    }
    default:
      throw new KvError('KV_INTERNAL', `unknown operation type ${op.type}`);
  }
}

/** Whether EXPIRE's NX/XX/GT/LT conditions allow replacing `current` (0 = none) by `next`. */
function expiryConditionHolds(flags: number, current: number, next: number): boolean {
  if (flags & EXPIRE_IF_NONE && current !== 0) return false;
  if (flags & EXPIRE_IF_SET && current === 0) return false;
  if (flags & EXPIRE_IF_LATER && (current === 0 || next <= current)) return false;
  if (flags & EXPIRE_IF_EARLIER && current !== 0 && next >= current) return false;
  return true;
}

function withPrevious(result: { applied: boolean }, previous: Uint8Array | undefined): OpResult {
  return previous ? { ...result, previous } : result;
}

function put(key: Uint8Array, value: Uint8Array, expiresAt: number): Uint8Array {
  const b = new Uint8Array(recordBytes(key.length, value.length));
  writeRecordHeader(b, 0, TYPE_PUT, 0, expiresAt, key.length, value.length);
  b.set(key, RECORD_HEADER_BYTES);
  b.set(value, RECORD_HEADER_BYTES + key.length);
  return b;
}

/** An atomic batch deleting every key of `keys`: IN_BATCH tombstones, then the commit record. */
export function tombstoneBatch(keys: readonly Uint8Array[]): Uint8Array {
  let total = recordBytes(0, 4);
  for (const k of keys) total += recordBytes(k.length, 0);
  const b = new Uint8Array(total);
  let at = 0;
  for (const k of keys) {
    writeRecordHeader(b, at, TYPE_DELETE, FLAG_IN_BATCH, 0, k.length, 0);
    b.set(k, at + RECORD_HEADER_BYTES);
    at += recordBytes(k.length, 0);
  }
  writeRecordHeader(b, at, TYPE_BATCH_COMMIT, 0, 0, 0, 4);
  b.set(encodeBatchCommitValue(keys.length), at + RECORD_HEADER_BYTES);
  return b;
}

/** A tombstone record for `key` (seq and CRC zero). */
export function tombstone(key: Uint8Array): Uint8Array {
  const b = new Uint8Array(recordBytes(key.length, 0));
  writeRecordHeader(b, 0, TYPE_DELETE, 0, 0, key.length, 0);
  b.set(key, RECORD_HEADER_BYTES);
  return b;
}
