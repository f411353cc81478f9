// Owns running one read-modify-write operation on the writer thread: read the key's current
// value (or, for clear, every key) through the writer's own RecordReader, then evaluate what to
// append (op-evaluator.ts). The log writer appends the record and publishes it. Writer only.

import { Buffer } from 'node:buffer';
import { getU64 } from '../shared/data-view-u64.js';
import { KvError, serializeError } from '../shared/errors.js';
import {
  recordExpiresAt,
  recordFlags,
  recordKeyLength,
  recordKeyStart,
  recordLengthAt,
  recordType,
  recordValueStart,
} from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import type { RecordReader } from '../shared/record-reader.js';
import { CHECK_ABSENT_SINCE, OP_CHECK, OP_CLEAR, OP_REAP } from '../shared/write-ops.js';
import {
  type Evaluation,
  evaluate,
  type Operation,
  tombstone,
  tombstoneBatch,
} from './op-evaluator.js';

/** Decodes the operation laid out as a record at `start` of a submitted buffer. */
export function operationAt(b: Uint8Array, start: number): Operation {
  const keyLength = recordKeyLength(b, start);
  const keyStart = recordKeyStart(start);
  return {
    type: recordType(b, start),
    flags: recordFlags(b, start),
    key: b.subarray(keyStart, keyStart + keyLength),
    argument: b.subarray(recordValueStart(start, keyLength), start + recordLengthAt(b, start)),
    expiresAt: recordExpiresAt(b, start),
  };
}

/**
 * Whether a key may have had a record written after a sequence number that is gone now
 * (LogWriter.removedAfter).
 */
export type RemovedAfter = (key: Uint8Array, since: number) => boolean;

/**
 * What `op` appends and answers. Everything written before it must already be published. A
 * failed read of the current value (KV_CORRUPTION, KV_IO) refuses this operation only.
 */
export function runOperation(
  op: Operation,
  reader: RecordReader,
  index: IndexTable,
  maxValueBytes: number,
  removedAfter: RemovedAfter,
): Evaluation {
  try {
    if (op.type === OP_CLEAR) return clearAll(reader, index);
    if (op.type === OP_CHECK) return checkVersion(op, reader, removedAfter);
    if (op.type === OP_REAP) return reap(op, reader);
    return evaluate(op, reader.getWithExpiry(op.key), maxValueBytes, Date.now());
  } catch (error) {
    return { result: { applied: false, error: serializeError(error) } };
  }
}

/**
 * OP_CLEAR: one atomic batch of tombstones for every key in the index (expired ones too), read
 * from the log now; nothing can interleave, since the writer thread applies every write.
 */
function clearAll(reader: RecordReader, index: IndexTable): Evaluation {
  const locations = index.writerCopyLocations();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < locations.length; i += 3) {
    const key = reader.located.keyAt(locations[i]!, locations[i + 1]!, locations[i + 2]!, true);
    if (key) keys.push(key);
  }
  if (keys.length === 0) return { result: { applied: true, integer: 0n } };
  return { record: tombstoneBatch(keys), result: { applied: true, integer: BigInt(keys.length) } };
}

/**
 * OP_CHECK: whether the key still has the version the caller read (argument: u64, or empty for
 * "still absent"), or with CHECK_ABSENT_SINCE is absent and had no value after the sequence
 * number in the argument; a changed key answers `KV_CONFLICT`, and the log writer then refuses
 * the batch that follows.
 */
function checkVersion(op: Operation, reader: RecordReader, removedAfter: RemovedAfter): Evaluation {
  const a = op.argument;
  const u64 =
    a.length === 8 ? getU64(new DataView(a.buffer, a.byteOffset, a.length), 0) : undefined;
  const current = reader.version(op.key);
  if (op.flags & CHECK_ABSENT_SINCE) {
    const since = u64 ?? 0;
    if (current === undefined && !removedAfter(op.key, since)) return { result: { applied: true } };
    const now = current === undefined ? 'absent, but written and removed since' : `at ${current}`;
    return conflict(op.key, `had no value after sequence number ${since}`, now);
  }
  if (current === u64) return { result: { applied: true } };
  return conflict(
    op.key,
    `at ${u64 ?? 'absent'}`,
    current === undefined ? 'absent' : `at ${current}`,
  );
}

function conflict(key: Uint8Array, expected: string, now: string): Evaluation {
  const error = new KvError(
    'KV_CONFLICT',
    `key ${describeKey(key)} changed since its version was read (expected ${expected}, now ${now})`,
  );
  return { result: { applied: false, error: serializeError(error) } };
}

/** OP_REAP: a tombstone for the key if its current record has expired (checked again here). */
function reap(op: Operation, reader: RecordReader): Evaluation {
  const current = reader.currentRecord(op.key);
  if (!current || current.expiresAt === 0 || current.expiresAt > Date.now()) {
    return { result: { applied: false } };
  }
  return { record: tombstone(op.key), result: { applied: true } };
}

function describeKey(key: Uint8Array): string {
  const text = Buffer.from(key.buffer, key.byteOffset, Math.min(key.length, 200)).toString('utf8');
  return JSON.stringify(key.length > 200 ? `${text}…` : text);
}
