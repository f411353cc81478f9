// Owns parsing one buffer of records submitted to the writer: check that it is well formed and
// find its units — a single record, or a whole atomic batch with its commit record — which are
// the pieces that may not be split across two segments, or a read-modify-write operation. Writer thread only.

import { KvError, type SerializedError, serializeError } from '../shared/errors.js';
import {
  batchCommitCount,
  RECORD_HEADER_BYTES,
  recordInBatch,
  recordLengthAt,
  recordType,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import { isOpType } from '../shared/write-ops.js';

/** A parsed submission: its bytes, where each unit ends, and how many records it holds. */
export interface WriteBuffer {
  readonly bytes: Uint8Array;
  /** End offset of each unit, ascending; unit k spans [unitEnds[k-1] ?? 0, unitEnds[k]). */
  readonly unitEnds: number[];
  readonly records: number;
}

/** Number of records in `b[start, end)`, which must be whole records. */
export function countRecords(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let at = start; at < end; at += recordLengthAt(b, at)) n++;
  return n;
}

/**
 * Parses a submitted buffer. Throws `KV_INTERNAL` if it is malformed (the caller's thread lays
 * these buffers out, so that is a bug, never user input).
 */
export function parseWriteBuffer(b: Uint8Array): WriteBuffer {
  const unitEnds: number[] = [];
  let records = 0;
  let inBatch = 0; // records of the open batch
  for (let at = 0; at < b.length; ) {
    if (b.length - at < RECORD_HEADER_BYTES) throw malformed('trailing bytes');
    const length = recordLengthAt(b, at);
    const type = recordType(b, at);
    if (at + length > b.length) throw malformed('record overruns the buffer');
    if (isOpType(type)) {
      // A read-modify-write operation: a unit of its own, never inside a batch.
      if (inBatch > 0) throw malformed('an operation inside a batch');
      at += length;
      records++;
      unitEnds.push(at);
      continue;
    }
    if (type !== TYPE_PUT && type !== TYPE_DELETE && type !== TYPE_BATCH_COMMIT) {
      throw malformed(`record type ${type}`);
    }
    at += length;
    records++;
    if (recordInBatch(b, at - length)) {
      if (type === TYPE_BATCH_COMMIT) throw malformed('commit record flagged as in a batch');
      inBatch++;
    } else if (type === TYPE_BATCH_COMMIT) {
      // A commit seals the records before it; recovery rejects an empty one, so never write it.
      if (inBatch === 0) throw malformed('batch commit without records');
      if (batchCommitCount(b, at - length) !== inBatch) throw malformed('batch commit count');
      inBatch = 0;
      unitEnds.push(at);
    } else {
      if (inBatch > 0) throw malformed('a plain record inside a batch');
      unitEnds.push(at);
    }
  }
  if (inBatch > 0) throw malformed('batch without commit');
  return { bytes: b, unitEnds, records };
}

function malformed(what: string): KvError {
  return new KvError('KV_INTERNAL', `malformed write buffer: ${what}`);
}

/**
 * Parses every submitted buffer; a malformed one gets no units and its error (its callers are
 * answered with it), and each gets an outcome per record (all `WRITE_OK` to start with).
 */
export function parseSubmissions(buffers: readonly Uint8Array[]): {
  parsed: WriteBuffer[];
  outcomes: Uint8Array[];
  errors: (SerializedError | undefined)[];
} {
  const parsed: WriteBuffer[] = [];
  const outcomes: Uint8Array[] = [];
  const errors: (SerializedError | undefined)[] = [];
  for (const b of buffers) {
    try {
      const p = parseWriteBuffer(b);
      parsed.push(p);
      outcomes.push(new Uint8Array(p.records));
      errors.push(undefined);
    } catch (error) {
      parsed.push({ bytes: b, unitEnds: [], records: 0 });
      outcomes.push(new Uint8Array(0));
      errors.push(serializeError(error));
    }
  }
  return { parsed, outcomes, errors };
}
