// The one definition of the index snapshot file (FORMAT.md, "Index snapshot"): the shared
// index's slot array as it is in memory, the segment table it refers to (handles, spans, sizes,
// accounting), and the point in the log it covers. Encode and validate-and-decode; deciding
// whether it still matches the directory is index-snapshot.ts's job.

import { crc32c } from './crc32c.js';
import { getU64, setU64 } from './data-view-u64.js';

/** File name of the index snapshot in a data directory. */
export const SNAPSHOT_FILE = 'INDEX-SNAPSHOT';
/** Magic of the index snapshot file: the ASCII bytes "KVDX" read as a little-endian u32. */
export const SNAPSHOT_MAGIC = 0x5844564b;
/** Snapshot layout version (header bytes 4..5); bumped whenever the snapshot layout changes. */
export const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 64;
const SEGMENT_ENTRY_BYTES = 48;
const TRAILER_BYTES = 4;

/** One segment as the snapshot records it. */
export interface SnapshotSegment {
  readonly id: number;
  readonly handle: number;
  readonly kind: number;
  readonly first: number;
  readonly last: number;
  readonly size: number;
  readonly liveKeys: number;
  readonly hinted: boolean;
  readonly liveBytes: number;
  readonly tombstoneBytes: number;
}

/** Everything a snapshot holds. `slots` is the index's slot array (16 bytes per slot). */
export interface Snapshot {
  readonly hashBits: number;
  readonly capacity: number;
  readonly count: number;
  readonly deleted: number;
  /** Highest sequence number the snapshot covers. */
  readonly lastSeq: number;
  /** The log segment being appended to when it was taken, and its size then. */
  readonly resumeId: number;
  readonly resumeFrom: number;
  readonly segments: readonly SnapshotSegment[];
  readonly slots: Uint8Array;
}

/** Encodes a snapshot into the pieces of the file, in order (to write with one writev). */
export function encodeSnapshot(s: Snapshot): Uint8Array[] {
  const head = new Uint8Array(HEADER_BYTES + s.segments.length * SEGMENT_ENTRY_BYTES);
  const v = new DataView(head.buffer);
  v.setUint32(0, SNAPSHOT_MAGIC, true);
  v.setUint16(4, SNAPSHOT_VERSION, true);
  v.setUint32(8, s.hashBits, true);
  v.setUint32(12, s.capacity, true);
  v.setUint32(16, s.count, true);
  v.setUint32(20, s.deleted, true);
  setU64(v, 24, s.lastSeq);
  v.setUint32(32, s.resumeId, true);
  v.setUint32(36, s.resumeFrom, true);
  v.setUint32(40, s.segments.length, true);
  s.segments.forEach((g, i) => {
    const at = HEADER_BYTES + i * SEGMENT_ENTRY_BYTES;
    v.setUint32(at, g.id, true);
    v.setUint32(at + 4, g.handle, true);
    v.setUint32(at + 8, g.kind, true);
    v.setUint32(at + 12, g.first, true);
    v.setUint32(at + 16, g.last, true);
    v.setUint32(at + 20, g.size, true);
    v.setUint32(at + 24, g.liveKeys, true);
    v.setUint32(at + 28, g.hinted ? 1 : 0, true);
    setU64(v, at + 32, g.liveBytes);
    setU64(v, at + 40, g.tombstoneBytes);
  });
  const trailer = new Uint8Array(TRAILER_BYTES);
  const crc = crc32c(s.slots, 0, s.slots.length, crc32c(head, 0, head.length));
  new DataView(trailer.buffer).setUint32(0, crc, true);
  return [head, s.slots, trailer];
}

/** Validates and decodes a snapshot file; returns why it is unusable as a string. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot | string {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) return 'snapshot is cut short';
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (v.getUint32(0, true) !== SNAPSHOT_MAGIC) return 'bad snapshot magic';
  const version = v.getUint16(4, true);
  if (version !== SNAPSHOT_VERSION) return `unsupported snapshot version ${version}`;
  const capacity = v.getUint32(12, true);
  const segmentCount = v.getUint32(40, true);
  const slotsStart = HEADER_BYTES + segmentCount * SEGMENT_ENTRY_BYTES;
  const body = slotsStart + capacity * 16;
  if (bytes.length !== body + TRAILER_BYTES) return 'snapshot length does not match its header';
  if (v.getUint32(body, true) !== crc32c(bytes, 0, body)) return 'snapshot checksum mismatch';
  const segments: SnapshotSegment[] = [];
  for (let i = 0; i < segmentCount; i++) {
    const at = HEADER_BYTES + i * SEGMENT_ENTRY_BYTES;
    segments.push({
      id: v.getUint32(at, true),
      handle: v.getUint32(at + 4, true),
      kind: v.getUint32(at + 8, true),
      first: v.getUint32(at + 12, true),
      last: v.getUint32(at + 16, true),
      size: v.getUint32(at + 20, true),
      liveKeys: v.getUint32(at + 24, true),
      hinted: v.getUint32(at + 28, true) === 1,
      liveBytes: getU64(v, at + 32),
      tombstoneBytes: getU64(v, at + 40),
    });
  }
  return {
    hashBits: v.getUint32(8, true),
    capacity,
    count: v.getUint32(16, true),
    deleted: v.getUint32(20, true),
    lastSeq: getU64(v, 24),
    resumeId: v.getUint32(32, true),
    resumeFrom: v.getUint32(36, true),
    segments,
    slots: bytes.subarray(slotsStart, body),
  };
}
