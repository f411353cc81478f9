// Owns replaying a data segment (`NNNNNN.sst`) into the index at open: the file is its own hint
// (each point entry has its key, type, seq and expiry, and its offset is its location), so
// recovery walks its blocks, checking each block's CRC, and applies every entry. A key run
// missing beside it (deleted by hand) is rebuilt from the same walk. Damage is never skipped:
// open fails with the file and offset. Writer thread only.

import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { TYPE_PUT } from '../shared/format.js';
import { buildKeyRun, keysFileName } from '../shared/key-run-format.js';
import type { Logger } from '../shared/logger.js';
import { BLOCK_TRAILER_BYTES, isSortedFailure, sortedCorruption } from '../shared/sorted-format.js';
import { openSortedSegment } from '../shared/sorted-segment-reader.js';
import { writeFileDurably } from './durable-file.js';
import type { IndexPublisher } from './index-publisher.js';
import { type Segment, SegmentTable } from './segments.js';

/** What replaying a data segment found: entries applied, and the sequence number it vouches for. */
export interface SortedReplay {
  readonly records: number;
  /** Its log sequence number (properties): no number at or below it may be handed out again. */
  readonly maxSeq: number;
}

/**
 * Applies every entry of data segment `segment` to the index through `publisher`, and sets its
 * overhead (bytes in no entry). Throws `KV_CORRUPTION` naming the file and offset of the first
 * block or structure it cannot trust, `KV_IO` if it cannot be read.
 */
export function replaySortedSegment(
  segments: SegmentTable,
  publisher: IndexPublisher,
  segment: Segment,
  log: Logger,
): SortedReplay {
  const name = SegmentTable.fileName(segment);
  let bytes: Buffer;
  try {
    bytes = segments.files.readFile(join(segments.dir, name));
  } catch (error) {
    throw ioError(`cannot read ${name}`, error);
  }
  const reader = openSortedSegment(bytes);
  if (isSortedFailure(reader)) throw sortedCorruption(reader, name);
  const handle = segment.handle;
  const needKeyRun = !segments.files.exists(join(segments.dir, keysFileName(segment.id)));
  const keys: Uint8Array[] = [];
  let records = 0;
  let entryBytes = 0;
  for (let i = 0; i < reader.blockCount; i++) {
    const block = reader.blockHandle(i);
    const cursor = reader.blockCursor(i);
    if (isSortedFailure(cursor)) throw sortedCorruption(cursor, name);
    while (cursor.more) {
      const failure = cursor.next();
      if (failure) throw sortedCorruption(failure, name);
      const offset = block.offset + cursor.entryStart;
      const length = cursor.valueStart + cursor.valueLength - cursor.entryStart;
      const loc = { handle, offset, length };
      if (cursor.type === TYPE_PUT) {
        publisher.put(cursor.key, 0, cursor.keyLength, loc, cursor.expiresAt, cursor.seq);
        if (needKeyRun) keys.push(cursor.key.slice(0, cursor.keyLength));
      } else {
        publisher.remove(cursor.key, 0, cursor.keyLength, cursor.seq);
        segments.addTombstone(handle, length);
      }
      records++;
      entryBytes += length;
    }
    if (block.offset + block.size + BLOCK_TRAILER_BYTES > bytes.length) {
      throw new KvError('KV_CORRUPTION', `${name} at offset ${block.offset}: block past the end`);
    }
  }
  const p = reader.properties;
  if (records !== p.entries || (p.entryBytes !== undefined && p.entryBytes !== entryBytes)) {
    throw new KvError(
      'KV_CORRUPTION',
      `${name} at offset ${reader.footer.properties.offset}: its properties count ${p.entries} entries of ${p.entryBytes} bytes, its blocks hold ${records} of ${entryBytes}`,
    );
  }
  segment.overhead = segment.size - entryBytes;
  if (needKeyRun) {
    const { first, last } = reader.footer;
    writeFileDurably(
      segments.files,
      segments.dir,
      keysFileName(segment.id),
      'key-run-rebuilt',
      buildKeyRun(keys, segment.id, first, last),
    );
    log.warn({ file: keysFileName(segment.id) }, 'rebuilt a missing key run from its data segment');
  }
  segment.hinted = true;
  return { records, maxSeq: Math.max(p.logSeq ?? 0, p.maxSeq) };
}

/**
 * The overhead (bytes in no entry) of data segment `segment`, from its properties block: for a
 * segment an index snapshot restored without reading its blocks. Throws `KV_CORRUPTION` if the
 * footer or properties cannot be trusted or do not say, `KV_IO` if it cannot be read.
 */
export function sortedSegmentOverhead(segments: SegmentTable, segment: Segment): number {
  const name = SegmentTable.fileName(segment);
  const files = segments.files;
  let fd: number;
  try {
    fd = files.open(join(segments.dir, name), 'r');
  } catch (error) {
    throw ioError(`cannot open ${name}`, error);
  }
  try {
    const size = files.size(fd);
    const reader = openSortedSegment({
      size,
      read: (offset, length) => {
        const out = new Uint8Array(length);
        const n = files.read(fd, out, 0, length, offset);
        return out.subarray(0, n);
      },
    });
    if (isSortedFailure(reader)) throw sortedCorruption(reader, name);
    const entryBytes = reader.properties.entryBytes;
    if (entryBytes === undefined || entryBytes > size) {
      throw new KvError(
        'KV_CORRUPTION',
        `${name} at offset ${reader.footer.properties.offset}: no entry byte count`,
      );
    }
    return size - entryBytes;
  } finally {
    files.close(fd);
  }
}
