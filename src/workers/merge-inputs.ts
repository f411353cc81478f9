// Owns walking one merge input, whatever its kind: every intact put and tombstone of a log
// segment (log records after the header; batch commits and sync marks skipped), or every entry
// of a data segment (point entries, block by block, each block's CRC checked). Damage is
// reported as a stretch of the file and skipped, for the writer to judge. Compaction worker only.

import {
  RECORD_HEADER_BYTES,
  recordExpiresAt,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import { damagedRecordKey, walkIntactRecords } from '../shared/segment-scan.js';
import { BLOCK_TRAILER_BYTES, isSortedFailure } from '../shared/sorted-format.js';
import { openSortedSegment } from '../shared/sorted-segment-reader.js';

/**
 * Visits one put or tombstone: its type, its key `src[keyStart, +keyLength)` (valid only
 * during the call), where the whole record lies in the file, its seq and expiry.
 */
export type InputVisitor = (
  type: typeof TYPE_PUT | typeof TYPE_DELETE,
  src: Uint8Array,
  keyStart: number,
  keyLength: number,
  offset: number,
  length: number,
  seq: number,
  expiresAt: number,
) => void;

/** A damaged stretch `[from, to)` of the input, with the key its header names if readable. */
export type InputDamage = (from: number, to: number, key?: string) => void;

/** Walks the log segment `bytes` (its first `end` bytes). */
export function walkLogInput(
  bytes: Uint8Array,
  end: number,
  visit: InputVisitor,
  onDamage: InputDamage,
): void {
  walkIntactRecords(
    bytes,
    SEGMENT_HEADER_BYTES,
    end,
    (type, offset, length, seq) => {
      if (type !== TYPE_PUT && type !== TYPE_DELETE) return; // batch commits, sync marks
      const keyStart = offset + RECORD_HEADER_BYTES;
      const keyLength = recordKeyLength(bytes, offset);
      const expiresAt = type === TYPE_PUT ? recordExpiresAt(bytes, offset) : 0;
      visit(type, bytes, keyStart, keyLength, offset, length, seq, expiresAt);
    },
    ({ from, to }) => onDamage(from, to, damagedRecordKey(bytes, from, to)),
  );
}

/**
 * Walks the data segment `bytes`. A file whose footer, index, filter or properties cannot be
 * trusted is one damaged stretch (all of it); a data block that fails its checks is one.
 */
export function walkSortedInput(
  bytes: Uint8Array,
  visit: InputVisitor,
  onDamage: InputDamage,
): void {
  const reader = openSortedSegment(bytes);
  if (isSortedFailure(reader)) {
    onDamage(0, bytes.length);
    return;
  }
  for (let i = 0; i < reader.blockCount; i++) {
    const handle = reader.blockHandle(i);
    const blockEnd = handle.offset + handle.size + BLOCK_TRAILER_BYTES;
    const cursor = reader.blockCursor(i);
    if (isSortedFailure(cursor)) {
      onDamage(handle.offset, blockEnd);
      continue;
    }
    // Check the whole block first, so a bad entry halfway does not leave half of it visited.
    let failed = false;
    while (cursor.more) {
      if (cursor.next()) {
        failed = true;
        break;
      }
    }
    if (failed || cursor.block.restarts.length === 0) {
      onDamage(handle.offset, blockEnd);
      continue;
    }
    cursor.reset();
    while (cursor.more) {
      cursor.next();
      const start = handle.offset + cursor.entryStart;
      const length = handle.offset + cursor.valueStart + cursor.valueLength - start;
      visit(
        cursor.type,
        cursor.key,
        0,
        cursor.keyLength,
        start,
        length,
        cursor.seq,
        cursor.expiresAt,
      );
    }
  }
}
