// The one definition of the index snapshot file (FORMAT.md, "Index snapshot"): the shared
// index's slot array as it is in memory, the segment table it refers to (handles, spans, sizes,
// accounting, expiry tallies), and the point in the log it covers. Encode and validate-and-decode; deciding
// whether it still matches the directory is index-snapshot.ts's job.

import { crc32c } from './crc32c.js';
import { getU64, setU64 } from './data-view-u64.js';
import { SLOT_BYTES } from './index-slot-format.js';

/** File name of the index snapshot in a data directory. */
export const SNAPSHOT_FILE = 'INDEX-SNAPSHOT';
/** Magic of the index snapshot file: the ASCII bytes "KVDX" read as a little-endian u32. */
export const SNAPSHOT_MAGIC = 0x5844564b;
/**
 * Snapshot layout version (header bytes 4..5); bumped whenever the snapshot layout changes.
 * Version 2 added the expiry tallies, version 3 the key hash id. A snapshot of another version
 * is not used.
 */
export const SNAPSHOT_VERSION = 3;
const HEADER_BYTES = 64;
const SEGMENT_ENTRY_BYTES = 72;
const BUCKET_BYTES = 20;
const TRAILER_BYTES = 4;

/** Bytes, keys and key bytes of a set of live records (for expiry accounting). */
export interface Tally {
  readonly bytes: number;
  readonly keys: number;
  readonly keyBytes: number;
}

/** Live records of a segment that expire during one second (`second` × 1000 ms at the latest). */
export interface ExpiryBucket extends Tally {
  readonly second: number;
}

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
  /** Live records whose expiry had passed when they were last swept (dead bytes). */
  readonly expired: Tally;
  /** Live records whose expiry had not passed yet, by the second they expire in. */
  readonly expiring: readonly ExpiryBucket[];
}

/** Why a snapshot file is unusable: a typed reason (`describeSnapshotFailure` words it). */
export type SnapshotFailure =
  | { readonly reason: 'cut-short' | 'bad-magic' | 'length-mismatch' | 'checksum' | 'bad-buckets' }
  | { readonly reason: 'unsupported-version'; readonly version: number };

/** Whether `decodeSnapshot` failed. */
export function isSnapshotFailure(s: Snapshot | SnapshotFailure): s is SnapshotFailure {
  return 'reason' in s;
}

/** The words for a snapshot failure, as logs print it. */
export function describeSnapshotFailure(f: SnapshotFailure): string {
  switch (f.reason) {
    case 'cut-short':
      return 'snapshot is cut short';
    case 'bad-magic':
      return 'bad snapshot magic';
    case 'length-mismatch':
      return 'snapshot length does not match its header';
    case 'checksum':
      return 'snapshot checksum mismatch';
    case 'bad-buckets':
      return 'snapshot expiry buckets do not match its header';
    case 'unsupported-version':
      return `unsupported snapshot version ${f.version}`;
  }
}

/** Everything a snapshot holds. `slots` is the index's slot array (`SLOT_BYTES` per slot). */
export interface Snapshot {
  /** Which key hash made the slots' tags (key-bytes.ts `KEY_HASH_ID`). */
  readonly hashId: number;
  readonly hashBits: number;
  readonly capacity: number;
  readonly count: number;
  readonly deleted: number;
  /** Highest sequence number the snapshot covers. */
  readonly lastSeq: number;
  /** The log segment being appended to when it was taken, and its size then. */
  readonly resumeId: number;
  readonly resumeFrom: number;
  /** The time (ms) up to which expiring records were moved to `expired`. */
  readonly sweptAt: number;
  readonly segments: readonly SnapshotSegment[];
  readonly slots: Uint8Array;
}

/** Encodes a snapshot into the pieces of the file, in order (to write with one writev). */
export function encodeSnapshot(s: Snapshot): Uint8Array[] {
  const buckets = s.segments.reduce((n, g) => n + g.expiring.length, 0);
  const bucketsStart = HEADER_BYTES + s.segments.length * SEGMENT_ENTRY_BYTES;
  const head = new Uint8Array(bucketsStart + buckets * BUCKET_BYTES);
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
  v.setUint32(44, buckets, true);
  setU64(v, 48, s.sweptAt);
  v.setUint32(56, s.hashId, true);
  let b = bucketsStart;
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
    setU64(v, at + 48, g.expired.bytes);
    v.setUint32(at + 56, g.expired.keys, true);
    v.setUint32(at + 60, g.expired.keyBytes, true);
    v.setUint32(at + 64, g.expiring.length, true);
    for (const e of g.expiring) {
      v.setUint32(b, e.second, true);
      setU64(v, b + 4, e.bytes);
      v.setUint32(b + 12, e.keys, true);
      v.setUint32(b + 16, e.keyBytes, true);
      b += BUCKET_BYTES;
    }
  });
  const trailer = new Uint8Array(TRAILER_BYTES);
  const crc = crc32c(s.slots, 0, s.slots.length, crc32c(head, 0, head.length));
  new DataView(trailer.buffer).setUint32(0, crc, true);
  return [head, s.slots, trailer];
}

/** Bytes of a snapshot's fixed header: what `snapshotLayout` reads. */
export const SNAPSHOT_HEADER_BYTES = HEADER_BYTES;
/** Bytes of a snapshot's trailer (its CRC32C), the file's last. */
export const SNAPSHOT_TRAILER_BYTES = TRAILER_BYTES;

/**
 * Where the parts of a snapshot file lie: its head (header, segment table and expiry buckets)
 * is bytes [0, slotsStart), its slot array [slotsStart, body), its trailer the rest. Reading
 * them apart lets open read the slot array straight into the index's memory.
 */
export interface SnapshotLayout {
  /** Slots in the slot array. */
  readonly capacity: number;
  readonly slotsStart: number;
  readonly body: number;
}

/**
 * The layout of a snapshot file of `fileBytes` bytes from its first `SNAPSHOT_HEADER_BYTES`
 * (`header`), or why the file is unusable (checked in the order `decodeSnapshot` checks).
 */
export function snapshotLayout(
  header: Uint8Array,
  fileBytes: number,
): SnapshotLayout | SnapshotFailure {
  if (fileBytes < HEADER_BYTES + TRAILER_BYTES || header.length < HEADER_BYTES) {
    return { reason: 'cut-short' };
  }
  const v = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  if (v.getUint32(0, true) !== SNAPSHOT_MAGIC) return { reason: 'bad-magic' };
  const version = v.getUint16(4, true);
  if (version !== SNAPSHOT_VERSION) return { reason: 'unsupported-version', version };
  const capacity = v.getUint32(12, true);
  const segmentCount = v.getUint32(40, true);
  const bucketCount = v.getUint32(44, true);
  const slotsStart = HEADER_BYTES + segmentCount * SEGMENT_ENTRY_BYTES + bucketCount * BUCKET_BYTES;
  const body = slotsStart + capacity * SLOT_BYTES;
  if (fileBytes !== body + TRAILER_BYTES) return { reason: 'length-mismatch' };
  return { capacity, slotsStart, body };
}

/** Validates and decodes a snapshot file; returns why it is unusable as a typed reason. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot | SnapshotFailure {
  const layout = snapshotLayout(bytes.subarray(0, HEADER_BYTES), bytes.length);
  if (isLayoutFailure(layout)) return layout;
  return decodeSnapshotParts(
    layout,
    bytes.subarray(0, layout.slotsStart),
    bytes.subarray(layout.slotsStart, layout.body),
    bytes.subarray(layout.body),
  );
}

/** Whether `snapshotLayout` failed. */
export function isLayoutFailure(l: SnapshotLayout | SnapshotFailure): l is SnapshotFailure {
  return 'reason' in l;
}

/**
 * Validates and decodes a snapshot read in its three parts (`layout` from `snapshotLayout`):
 * `head` is bytes [0, slotsStart), `slots` the slot array, `trailer` the last 4 bytes. The CRC
 * covers head and slots. The result's `slots` is `slots` itself, not a copy.
 */
export function decodeSnapshotParts(
  layout: SnapshotLayout,
  head: Uint8Array,
  slots: Uint8Array,
  trailer: Uint8Array,
): Snapshot | SnapshotFailure {
  const { slotsStart, body, capacity } = layout;
  if (head.length !== slotsStart || slots.length !== body - slotsStart) {
    return { reason: 'length-mismatch' };
  }
  if (trailer.length !== TRAILER_BYTES) return { reason: 'length-mismatch' };
  const crc = crc32c(slots, 0, slots.length, crc32c(head, 0, head.length));
  const t = new DataView(trailer.buffer, trailer.byteOffset, TRAILER_BYTES);
  if (t.getUint32(0, true) !== crc) return { reason: 'checksum' };
  const v = new DataView(head.buffer, head.byteOffset, head.length);
  const segmentCount = v.getUint32(40, true);
  const bucketsStart = HEADER_BYTES + segmentCount * SEGMENT_ENTRY_BYTES;
  const segments: SnapshotSegment[] = [];
  let b = bucketsStart;
  for (let i = 0; i < segmentCount; i++) {
    const at = HEADER_BYTES + i * SEGMENT_ENTRY_BYTES;
    const expiring: ExpiryBucket[] = [];
    const n = v.getUint32(at + 64, true);
    if (b + n * BUCKET_BYTES > slotsStart) return { reason: 'bad-buckets' };
    for (let k = 0; k < n; k++, b += BUCKET_BYTES) {
      expiring.push({
        second: v.getUint32(b, true),
        bytes: getU64(v, b + 4),
        keys: v.getUint32(b + 12, true),
        keyBytes: v.getUint32(b + 16, true),
      });
    }
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
      expired: {
        bytes: getU64(v, at + 48),
        keys: v.getUint32(at + 56, true),
        keyBytes: v.getUint32(at + 60, true),
      },
      expiring,
    });
  }
  if (b !== slotsStart) return { reason: 'bad-buckets' };
  return {
    hashId: v.getUint32(56, true),
    hashBits: v.getUint32(8, true),
    capacity,
    count: v.getUint32(16, true),
    deleted: v.getUint32(20, true),
    lastSeq: getU64(v, 24),
    resumeId: v.getUint32(32, true),
    resumeFrom: v.getUint32(36, true),
    sweptAt: getU64(v, 48),
    segments,
    slots,
  };
}
