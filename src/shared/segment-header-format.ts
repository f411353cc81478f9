// The one definition of a segment file's name and its 32-byte header (FORMAT.md, "Segment
// header"): the format versions, the magic, the segment kinds, encode and decode with typed
// failure reasons. format.ts re-exports it with the record layout, so readers and writers of
// segment files import one module.

import { crc32c } from './crc32c.js';

/**
 * Bumped whenever any layout below changes. Version 3 added the sync mark record type; a
 * version-2 segment (no sync marks) is read as it is.
 */
export const FORMAT_VERSION = 3;
/** Oldest segment format version this code reads. */
export const OLDEST_READABLE_VERSION = 2;

/**
 * Magic of a segment file: the ASCII bytes "KVDS" read as a little-endian u32.
 *
 * Segment file header: magic "KVDS", u16 version, u16 kind, u32 segment id, u32 first, u32 last,
 * 8 reserved bytes, u32 CRC32C of bytes 0..27. `first..last` is the span of log segment ids whose
 * records the file holds: a log segment spans its own id; a merged one (compaction output) the
 * ids of the segments it replaced. Replay order is `first` order.
 */
export const SEGMENT_MAGIC = 0x5344564b;
/** Bytes of the segment file header; the first record starts here. */
export const SEGMENT_HEADER_BYTES = 32;
/** Segment kinds (header bytes 6..7). A log segment: written by appending. */
export const KIND_LOG = 0;
/** A merged segment: written whole by compaction, holding what segments first..last still held. */
export const KIND_MERGED = 1;

/**
 * A merged data segment, `NNNNNN.sst`: a sorted segment of point entries (FORMAT.md, "Data
 * segment"). Never in a log segment's header: its id and span come from its footer.
 */
export const KIND_SORTED = 2;

/** What a segment header (or a data segment's footer) says. */
export interface SegmentHeader {
  readonly id: number;
  /** The format version the file was written in (`OLDEST_READABLE_VERSION`..`FORMAT_VERSION`). */
  readonly version?: number;
  readonly kind: typeof KIND_LOG | typeof KIND_MERGED | typeof KIND_SORTED;
  readonly first: number;
  readonly last: number;
}

/** Segment file name for an id: six or more decimal digits, `.log`. */
export function segmentFileName(id: number): string {
  return `${String(id).padStart(6, '0')}.log`;
}

/** Parses a segment file name, or returns undefined if the name is not one. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = /^(\d{6,})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Data segment (merged sorted segment) file name for an id: `NNNNNN.sst`. */
export function sortedSegmentFileName(id: number): string {
  return `${String(id).padStart(6, '0')}.sst`;
}

/** Parses a data segment file name, or returns undefined if the name is not one. */
export function parseSortedSegmentFileName(name: string): number | undefined {
  const m = /^(\d{6,})\.sst$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The file name of segment `id` of `kind`: `.sst` for a data segment, else `.log`. */
export function dataFileName(id: number, kind: SegmentHeader['kind']): string {
  return kind === KIND_SORTED ? sortedSegmentFileName(id) : segmentFileName(id);
}

/**
 * Encodes a segment file header into a new 32-byte buffer. A log segment (the default) spans
 * its own id; a merged one spans `first..last`.
 */
export function encodeSegmentHeader(
  id: number,
  kind: SegmentHeader['kind'] = KIND_LOG,
  first = id,
  last = id,
): Uint8Array {
  const b = new Uint8Array(SEGMENT_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, SEGMENT_MAGIC, true);
  v.setUint16(4, FORMAT_VERSION, true);
  v.setUint16(6, kind, true);
  v.setUint32(8, id, true);
  v.setUint32(12, first, true);
  v.setUint32(16, last, true);
  v.setUint32(28, crc32c(b, 0, 28), true);
  return b;
}

/** Why a segment file header is not valid: a typed reason, never matched by its text. */
export type SegmentHeaderFailure =
  | { readonly reason: 'unsupported-version'; readonly version: number }
  | { readonly reason: 'cut-short' }
  | { readonly reason: 'bad-magic' }
  | { readonly reason: 'checksum' }
  | { readonly reason: 'wrong-id'; readonly named: number }
  | {
      readonly reason: 'bad-span';
      readonly kind: number;
      readonly first: number;
      readonly last: number;
    };

/** Whether `decodeSegmentHeader` failed. */
export function isSegmentHeaderFailure(
  h: SegmentHeader | SegmentHeaderFailure,
): h is SegmentHeaderFailure {
  return 'reason' in h;
}

/** The words for a header failure, as errors and logs print it. */
export function describeSegmentHeaderFailure(f: SegmentHeaderFailure): string {
  switch (f.reason) {
    case 'unsupported-version':
      return `unsupported format version ${f.version}`;
    case 'cut-short':
      return 'segment header is cut short';
    case 'bad-magic':
      return 'bad segment magic';
    case 'checksum':
      return 'segment header checksum mismatch';
    case 'wrong-id':
      return `segment header names id ${f.named}`;
    case 'bad-span':
      return `segment header has kind ${f.kind} spanning ${f.first}..${f.last}`;
  }
}

/** Decodes a segment file header for file `id`; returns why if it is not valid. */
export function decodeSegmentHeader(
  b: Uint8Array,
  id: number,
): SegmentHeader | SegmentHeaderFailure {
  if (b.length >= 6 && otherVersion(b)) {
    return { reason: 'unsupported-version', version: b[4]! | (b[5]! << 8) };
  }
  if (b.length < SEGMENT_HEADER_BYTES) return { reason: 'cut-short' };
  const v = new DataView(b.buffer, b.byteOffset, SEGMENT_HEADER_BYTES);
  if (v.getUint32(0, true) !== SEGMENT_MAGIC) return { reason: 'bad-magic' };
  // The version first: an older format's header is laid out (and checksummed) differently.
  const version = v.getUint16(4, true);
  if (!readableVersion(version)) return { reason: 'unsupported-version', version };
  if (v.getUint32(28, true) !== crc32c(b, 0, 28)) return { reason: 'checksum' };
  if (v.getUint32(8, true) !== id) return { reason: 'wrong-id', named: v.getUint32(8, true) };
  const kind = v.getUint16(6, true);
  const first = v.getUint32(12, true);
  const last = v.getUint32(16, true);
  if (kind === KIND_LOG && first === id && last === id) return { id, version, kind, first, last };
  if (kind === KIND_MERGED && first <= last && last < id) {
    return { id, version, kind, first, last };
  }
  return { reason: 'bad-span', kind, first, last };
}

function readableVersion(version: number): boolean {
  return version >= OLDEST_READABLE_VERSION && version <= FORMAT_VERSION;
}

/** Whether `b` starts with the segment magic and a version this code cannot read. */
function otherVersion(b: Uint8Array): boolean {
  const magic = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  return magic === SEGMENT_MAGIC && !readableVersion(b[4]! | (b[5]! << 8));
}

/** Checks a segment file header; returns a reason string if it is not valid for `id`. */
export function checkSegmentHeader(b: Uint8Array, id: number): string | undefined {
  const h = decodeSegmentHeader(b, id);
  return isSegmentHeaderFailure(h) ? describeSegmentHeaderFailure(h) : undefined;
}
