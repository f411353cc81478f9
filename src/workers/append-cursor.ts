// Owns walking the units of the buffers submitted to the writer: a cursor (buffer, unit, record
// number) and the helpers that read a unit's bounds or mark its records failed. Writer only.

import { WRITE_FAILED } from '../shared/messages.js';
import { countRecords, type WriteBuffer } from './write-buffer.js';

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
