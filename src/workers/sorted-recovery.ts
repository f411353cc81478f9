// Owns replaying a data segment (`NNNNNN.sst`) into the index at open: the file is its own hint
// (each point entry has its key, type, seq and expiry, and its offset is its location), so
// recovery walks its blocks, checking each block's CRC, and applies every entry. A key run
// missing beside it (deleted by hand, or removed by repair) is rebuilt from the same walk, also
// when an index snapshot restored the segment's entries. Damage is never skipped: open fails
// with the file and offset. Writer thread only.

import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { KIND_SORTED, TYPE_PUT } from '../shared/format.js';
import { buildKeyRun, keysFileName } from '../shared/key-run-format.js';
import type { Logger } from '../shared/logger.js';
import type { BlockCursor } from '../shared/sorted-block-cursor.js';
import {
  BLOCK_TRAILER_BYTES,
  isSortedFailure,
  type SortedFooter,
  sortedCorruption,
} from '../shared/sorted-format.js';
import type { SortedProperties } from '../shared/sorted-properties.js';
import {
  openSortedSegment,
  readSortedProperties,
  type SortedSegmentReader,
} from '../shared/sorted-segment-reader.js';
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
  const handle = segment.handle;
  const walk = walkSortedSegment(segments, segment, (cursor, loc) => {
    if (cursor.type === TYPE_PUT) {
      publisher.put(cursor.key, 0, cursor.keyLength, loc, cursor.expiresAt, cursor.seq);
    } else {
      publisher.remove(cursor.key, 0, cursor.keyLength, cursor.seq);
      segments.addTombstone(handle, loc.length);
    }
  });
  segment.overhead = segment.size - walk.entryBytes;
  if (walk.keys) writeKeyRun(segments, segment, walk.keys, walk.reader, log);
  segment.hinted = true;
  const p = walk.reader.properties;
  return { records: walk.records, maxSeq: Math.max(p.logSeq ?? 0, p.maxSeq) };
}

/**
 * For a data segment an index snapshot restored (its entries are in the index already): sets
 * its overhead from the properties, and rebuilds its key run if that is missing, so range
 * scans never miss its keys. Throws `KV_CORRUPTION` if the file cannot be trusted, `KV_IO` if
 * it cannot be read.
 */
export function restoreSortedSegment(segments: SegmentTable, segment: Segment, log: Logger): void {
  if (!segments.files.exists(join(segments.dir, keysFileName(segment.id)))) {
    const walk = walkSortedSegment(segments, segment, () => {});
    segment.overhead = segment.size - walk.entryBytes;
    writeKeyRun(segments, segment, walk.keys!, walk.reader, log);
    return;
  }
  segment.overhead = sortedSegmentOverhead(segments, segment);
}

/** Location of an entry in its data segment, as the index holds it. */
interface EntryLocation {
  readonly handle: number;
  readonly offset: number;
  readonly length: number;
}

/** What a walk of a data segment found. */
interface SortedWalk {
  readonly reader: SortedSegmentReader;
  readonly records: number;
  readonly entryBytes: number;
  /** The keys of its puts, in order, if its key run is missing (to rebuild it). */
  readonly keys: Uint8Array[] | undefined;
}

/**
 * Reads data segment `segment` whole and walks every entry of every block (each block's CRC
 * checked), calling `visit` with the cursor on it and its location; checks the count and bytes
 * against the properties. Throws `KV_CORRUPTION` naming the file and offset, or `KV_IO`.
 */
function walkSortedSegment(
  segments: SegmentTable,
  segment: Segment,
  visit: (cursor: BlockCursor, loc: EntryLocation) => void,
): SortedWalk {
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
  const keys = segments.files.exists(join(segments.dir, keysFileName(segment.id)))
    ? undefined
    : ([] as Uint8Array[]);
  let records = 0;
  let entryBytes = 0;
  for (let i = 0; i < reader.blockCount; i++) {
    const block = reader.blockHandle(i);
    if (block.offset + block.size + BLOCK_TRAILER_BYTES > bytes.length) {
      throw new KvError('KV_CORRUPTION', `${name} at offset ${block.offset}: block past the end`);
    }
    const cursor = reader.blockCursor(i);
    if (isSortedFailure(cursor)) throw sortedCorruption(cursor, name);
    while (cursor.more) {
      const failure = cursor.next();
      if (failure) throw sortedCorruption(failure, name);
      const offset = block.offset + cursor.entryStart;
      const length = cursor.valueStart + cursor.valueLength - cursor.entryStart;
      visit(cursor, { handle, offset, length });
      if (keys && cursor.type === TYPE_PUT) keys.push(cursor.key.slice(0, cursor.keyLength));
      records++;
      entryBytes += length;
    }
  }
  const p = reader.properties;
  if (records !== p.entries || (p.entryBytes !== undefined && p.entryBytes !== entryBytes)) {
    throw new KvError(
      'KV_CORRUPTION',
      `${name} at offset ${reader.footer.properties.offset}: its properties count ${p.entries} entries of ${p.entryBytes} bytes, its blocks hold ${records} of ${entryBytes}`,
    );
  }
  return { reader, records, entryBytes, keys };
}

/** Writes the key run of data segment `segment` from its put keys (crash-safely). */
function writeKeyRun(
  segments: SegmentTable,
  segment: Segment,
  keys: Uint8Array[],
  reader: SortedSegmentReader,
  log: Logger,
): void {
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

/**
 * The file size, footer and properties of data segment `segment` (their CRCs checked). Throws
 * `KV_CORRUPTION` if they cannot be trusted, `KV_IO` if the file cannot be read.
 */
function readProperties(
  segments: SegmentTable,
  segment: Segment,
): { size: number; footer: SortedFooter; properties: SortedProperties } {
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
    const head = readSortedProperties({
      size,
      read: (offset, length) => {
        const out = new Uint8Array(length);
        const n = files.read(fd, out, 0, length, offset);
        return out.subarray(0, n);
      },
    });
    if (isSortedFailure(head)) throw sortedCorruption(head, name);
    return { size, ...head };
  } finally {
    files.close(fd);
  }
}

/**
 * The overhead (bytes in no entry) of data segment `segment`, from its properties block: for a
 * segment an index snapshot restored without reading its blocks. Throws `KV_CORRUPTION` if the
 * footer or properties cannot be trusted or do not say, `KV_IO` if it cannot be read.
 */
export function sortedSegmentOverhead(segments: SegmentTable, segment: Segment): number {
  const { size, footer, properties } = readProperties(segments, segment);
  const entryBytes = properties.entryBytes;
  if (entryBytes === undefined || entryBytes > size) {
    throw new KvError(
      'KV_CORRUPTION',
      `${SegmentTable.fileName(segment)} at offset ${footer.properties.offset}: no entry byte count`,
    );
  }
  return size - entryBytes;
}

/**
 * Clears data segment `segment`'s displaced mark (segment-handles.ts) if every put entry of it
 * is its key's newest version: the index points at as many of its keys as it holds puts (one
 * entry per key). Returns whether it did. Properties that cannot be read leave the mark (reads
 * of the segment report the damage); so does a segment that is not a data segment.
 */
export function markAllLiveIfSo(segments: SegmentTable, segment: Segment): boolean {
  if (segment.kind !== KIND_SORTED) return false;
  let puts: number;
  try {
    const { properties } = readProperties(segments, segment);
    puts = properties.entries - properties.tombstones;
  } catch {
    return false;
  }
  if (segment.liveKeys !== puts) return false;
  segments.markAllLive(segment);
  return true;
}
