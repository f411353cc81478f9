// Owns turning `Store.batch`'s arguments into what the write queue sends: each operation checked
// and encoded once (keys, values, expiries, the 1 GiB batch limit), and `ifVersions` checked
// into the writer's version checks. Caller's thread.

import { KvError } from '../shared/errors.js';
import { recordBytes, TYPE_DELETE, TYPE_PUT } from '../shared/format.js';
import { byteLength } from '../shared/key-bytes.js';
import { checkExpiry, checkKey, checkValue } from './input-checks.js';
import { checkOptionNames } from './op-encoding.js';
import { LIMITS } from './options.js';
import type { BatchOp, BatchOptions, Bytes } from './store-types.js';
import type { EncodedOp, VersionCheck } from './write-queue.js';

/** The options `batch` takes. */
const BATCH_OPTION_NAMES: readonly string[] = [
  'ifVersions',
  'ifAbsentSince',
] satisfies readonly (keyof BatchOptions)[];

/** The key and value limits in effect. */
export interface EncodingLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

/** A put, checked against `limits`. Throws `KV_KEY_TOO_LARGE`, `KV_VALUE_TOO_LARGE`, `KV_INVALID_ARGUMENT`. */
export function encodePut(
  key: Bytes,
  value: Bytes,
  expiresAt: number,
  limits: EncodingLimits,
): EncodedOp {
  checkPut(key, value, expiresAt, limits);
  return { type: TYPE_PUT, key, value, expiresAt };
}

/** Checks a put against `limits`, with `encodePut`'s errors; makes nothing. */
export function checkPut(
  key: Bytes,
  value: Bytes,
  expiresAt: number,
  limits: EncodingLimits,
): void {
  checkKey(key, limits.maxKeyBytes);
  checkValue(value, limits.maxValueBytes);
  checkExpiry(expiresAt);
}

/**
 * `batch`'s operations encoded, and its version checks. Throws `KV_INVALID_ARGUMENT` for a
 * malformed operation or `ifVersions`, `KV_VALUE_TOO_LARGE` past the 1 GiB batch limit, and the
 * key and value checks' errors.
 */
export function encodeBatch(
  ops: readonly BatchOp[],
  options: BatchOptions | undefined,
  limits: EncodingLimits,
): { ops: EncodedOp[]; checks: VersionCheck[] } {
  if (!Array.isArray(ops)) {
    throw new KvError('KV_INVALID_ARGUMENT', 'batch takes an array of operations');
  }
  checkOptionNames(options, BATCH_OPTION_NAMES, 'batch');
  const checks = [
    ...versionChecks(options?.ifVersions, limits),
    ...absenceChecks(options?.ifAbsentSince, limits),
  ];
  const encoded: EncodedOp[] = ops.map((op) => {
    if (op?.type === 'set') return encodePut(op.key, op.value, op.expiresAt ?? 0, limits);
    if (op?.type === 'delete') {
      checkKey(op.key, limits.maxKeyBytes);
      return { type: TYPE_DELETE, key: op.key, value: '', expiresAt: 0 };
    }
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `unknown batch operation type ${String((op as { type?: unknown })?.type)}`,
    );
  });
  let bytes = 0;
  for (const op of encoded) bytes += recordBytes(byteLength(op.key), byteLength(op.value));
  if (bytes > LIMITS.maxBatchBytes) {
    throw new KvError(
      'KV_VALUE_TOO_LARGE',
      `batch of ${bytes} bytes exceeds the ${LIMITS.maxBatchBytes}-byte limit`,
    );
  }
  return { ops: encoded, checks };
}

function absenceChecks(
  ifAbsentSince: BatchOptions['ifAbsentSince'],
  limits: EncodingLimits,
): VersionCheck[] {
  if (ifAbsentSince === undefined) return [];
  if (typeof (ifAbsentSince as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      'ifAbsentSince must be a Map or [key, sequence number] pairs',
    );
  }
  const checks: VersionCheck[] = [];
  for (const [key, since] of ifAbsentSince) {
    checkKey(key, limits.maxKeyBytes);
    if (!(Number.isSafeInteger(since) && since >= 0)) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `a sequence number is a non-negative integer (got ${String(since)})`,
      );
    }
    checks.push({ key, version: undefined, since });
  }
  return checks;
}

function versionChecks(
  ifVersions: BatchOptions['ifVersions'],
  limits: EncodingLimits,
): VersionCheck[] {
  if (ifVersions === undefined) return [];
  if (typeof (ifVersions as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new KvError('KV_INVALID_ARGUMENT', 'ifVersions must be a Map or [key, version] pairs');
  }
  const checks: VersionCheck[] = [];
  for (const [key, version] of ifVersions) {
    checkKey(key, limits.maxKeyBytes);
    if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `a version is a positive integer or undefined (got ${String(version)})`,
      );
    }
    checks.push({ key, version });
  }
  return checks;
}
