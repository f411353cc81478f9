// Owns walking the units of the buffers submitted to the writer: a cursor (buffer, unit, record
// number) and the helpers that read a unit's bounds or mark its records failed. Writer only.

import type { SerializedError } from '../shared/errors.js';
import {
  recordLengthAt,
  recordType,
  SEGMENT_HEADER_BYTES,
  sealRecord,
  TYPE_PUT,
} from '../shared/format.js';
import { WRITE_FAILED } from '../shared/messages.js';
import { isOpType } from '../shared/write-ops.js';
import { countRecords, type WriteBuffer } from './write-buffer.js';

/**
 * A contiguous span of one submitted buffer written into one segment: records
 * [start, end) of buffer `buffer`, starting at file `offset`, the first being record number
 * `firstRecord` of that buffer.
 */
export interface Run {
  readonly buffer: number;
  readonly start: number;
  end: number;
  readonly handle: number;
  readonly offset: number;
  readonly firstRecord: number;
}

/**
 * Takes units from `cursor` on into one append to segment `handle`, whose data would start at
 * `from`, while they fit under `limit` bytes (the first always fits) and until an operation
 * (which must see everything before it published) or the end. Stamps each record's sequence
 * number (`nextSeq`) and CRC. Returns the runs, the segment's size after them, how many records
 * and how many puts (keys the index may need room for) they hold. Advances `cursor`.
 */
export function collectRuns(
  parsed: readonly WriteBuffer[],
  cursor: Cursor,
  handle: number,
  from: number,
  limit: number,
  nextSeq: () => number,
): { runs: Run[]; size: number; records: number; puts: number } {
  const runs: Run[] = [];
  let size = from;
  let records = 0;
  let puts = 0;
  while (cursor.buffer < parsed.length) {
    const p = parsed[cursor.buffer]!;
    const start = unitStart(parsed, cursor);
    const end = p.unitEnds[cursor.unit]!;
    if (size > SEGMENT_HEADER_BYTES && size + (end - start) > limit) break;
    if (isOpType(recordType(p.bytes, start))) break;
    const b = p.bytes;
    let n = 0;
    for (let at = start; at < end; at += recordLengthAt(b, at), n++) {
      sealRecord(b, at, nextSeq());
      if (recordType(b, at) === TYPE_PUT) puts++;
    }
    const last = runs[runs.length - 1];
    if (last && last.buffer === cursor.buffer && last.end === start) last.end = end;
    else {
      runs.push({
        buffer: cursor.buffer,
        start,
        end,
        handle,
        offset: size,
        firstRecord: cursor.record,
      });
    }
    size += end - start;
    records += n;
    cursor.record += n;
    cursor.unit++;
    skipExhausted(parsed, cursor);
  }
  return { runs, size, records, puts };
}

/** Where the next unit to append is: buffer index, unit index, and its first record number. */
export interface Cursor {
  /** Index of the current buffer in the `parsed` array. */
  buffer: number;
  /** Index of the current unit within that buffer (into its `unitEnds`). */
  unit: number;
  /** Number, within that buffer, of the unit's first record (an index into its outcomes). */
  record: number;
}

/**
 * Moves `cursor` past buffers with no unit left (including empty and malformed ones), to the
 * first unit still to append, resetting `unit` and `record` at each new buffer. Leaves
 * `cursor.buffer === parsed.length` when every unit has been consumed.
 */
export function skipExhausted(parsed: readonly WriteBuffer[], cursor: Cursor): void {
  while (cursor.buffer < parsed.length && cursor.unit >= parsed[cursor.buffer]!.unitEnds.length) {
    cursor.buffer++;
    cursor.unit = 0;
    cursor.record = 0;
  }
}

/** Byte offset, in the cursor's buffer, where the cursor's unit starts. */
export function unitStart(parsed: readonly WriteBuffer[], cursor: Cursor): number {
  return cursor.unit === 0 ? 0 : parsed[cursor.buffer]!.unitEnds[cursor.unit - 1]!;
}

/** Bytes of the cursor's unit (a record, a whole batch with its commit, or one operation). */
export function unitLength(parsed: readonly WriteBuffer[], cursor: Cursor): number {
  const p = parsed[cursor.buffer]!;
  return p.unitEnds[cursor.unit]! - (cursor.unit === 0 ? 0 : p.unitEnds[cursor.unit - 1]!);
}

/**
 * Sets `WRITE_FAILED` in `outcomes` for every record in `b[start, end)` (whole records),
 * numbering them from `firstRecord`.
 */
export function markFailed(
  b: Uint8Array,
  start: number,
  end: number,
  firstRecord: number,
  outcomes: Uint8Array,
): void {
  outcomes.fill(WRITE_FAILED, firstRecord, firstRecord + countRecords(b, start, end));
}

/**
 * Marks the unit at `cursor` failed with `error` without appending it (a batch whose version
 * check failed), and advances `cursor` past it.
 */
export function refuseUnit(
  parsed: readonly WriteBuffer[],
  cursor: Cursor,
  outcomes: Uint8Array[],
  errors: (SerializedError | undefined)[],
  error: SerializedError,
): void {
  const p = parsed[cursor.buffer]!;
  const start = unitStart(parsed, cursor);
  const end = start + unitLength(parsed, cursor);
  markFailed(p.bytes, start, end, cursor.record, outcomes[cursor.buffer]!);
  errors[cursor.buffer] ??= error;
  cursor.record += countRecords(p.bytes, start, end);
  cursor.unit++;
  skipExhausted(parsed, cursor);
}

/** Marks every unit from `cursor` on failed with `error` (the writer stopped). */
export function failRemaining(
  parsed: readonly WriteBuffer[],
  cursor: Cursor,
  outcomes: Uint8Array[],
  errors: (SerializedError | undefined)[],
  error: SerializedError,
): void {
  for (; cursor.buffer < parsed.length; cursor.buffer++, cursor.unit = 0, cursor.record = 0) {
    const p = parsed[cursor.buffer]!;
    if (p.unitEnds.length === 0) continue;
    const from = cursor.unit === 0 ? 0 : p.unitEnds[cursor.unit - 1]!;
    markFailed(p.bytes, from, p.bytes.length, cursor.record, outcomes[cursor.buffer]!);
    errors[cursor.buffer] ??= error;
  }
}
