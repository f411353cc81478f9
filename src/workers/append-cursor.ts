// Owns walking the units of the buffers submitted to the writer: a cursor (buffer, unit, record
// number) and the helpers that read a unit's bounds or mark its records failed. Writer only.

import { WRITE_FAILED } from '../shared/messages.js';
import { countRecords, type WriteBuffer } from './write-buffer.js';

/** Where the next unit to append is: buffer index, unit index, and its first record number. */
export interface Cursor {
  buffer: number;
  unit: number;
  record: number;
}

export function skipExhausted(parsed: readonly WriteBuffer[], cursor: Cursor): void {
  while (cursor.buffer < parsed.length && cursor.unit >= parsed[cursor.buffer]!.unitEnds.length) {
    cursor.buffer++;
    cursor.unit = 0;
    cursor.record = 0;
  }
}

export function unitStart(parsed: readonly WriteBuffer[], cursor: Cursor): number {
  return cursor.unit === 0 ? 0 : parsed[cursor.buffer]!.unitEnds[cursor.unit - 1]!;
}

export function unitLength(parsed: readonly WriteBuffer[], cursor: Cursor): number {
  const p = parsed[cursor.buffer]!;
  return p.unitEnds[cursor.unit]! - (cursor.unit === 0 ? 0 : p.unitEnds[cursor.unit - 1]!);
}

export function markFailed(
  b: Uint8Array,
  start: number,
  end: number,
  firstRecord: number,
  outcomes: Uint8Array,
): void {
  outcomes.fill(WRITE_FAILED, firstRecord, firstRecord + countRecords(b, start, end));
}
