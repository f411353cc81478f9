// The one definition of kvd's on-disk log format (documented in FORMAT.md): the record header
// layout, record types, encode, decode and checksum, with the segment header's definitions
// (segment-header-format.ts) re-exported. Every reader and writer of segment files goes through
// this module; nobody else computes a record offset.

import { crc32c, crc32cOfMap } from './crc32c.js';

export * from './segment-header-format.js';

/** Record header: u32 crc, u8 type, u8 flags, u16 reserved, u64 seq, u64 expiresAt, u32 keyLen, u32 valueLen. */
export const RECORD_HEADER_BYTES = 32;
/** Offset in the record header of the u32 CRC32C of bytes 4 .. end of the record (FORMAT.md). */
export const OFF_CRC = 0;
/** Offset in the record header of the u8 record type (`TYPE_*`; `OP_*` in a submission). */
export const OFF_TYPE = 4;
/**
 * Offset in the record header of the u8 flags (`FLAG_IN_BATCH`; in an operation, its `SET_*` or
 * `EXPIRE_*` flags).
 */
export const OFF_FLAGS = 5;
/** Offset in the record header of the u64 sequence number. */
export const OFF_SEQ = 8;
/** Offset in the record header of the u64 expiry, in ms since the epoch (0 = never). */
export const OFF_EXPIRES = 16;
/** Offset in the record header of the u32 key length in bytes. */
export const OFF_KEY_LEN = 24;
/** Offset in the record header of the u32 value length in bytes. */
export const OFF_VALUE_LEN = 28;

/** Record types. A put: the key's value from this record on. */
export const TYPE_PUT = 1;
/** A tombstone: the key has no value from this record on. */
export const TYPE_DELETE = 2;
/** Ends an atomic batch; its value is the u32 count of the batch's records. */
export const TYPE_BATCH_COMMIT = 3;
/**
 * A sync mark (format 3): no key; its value is the u64 count of bytes of this segment, from
 * offset 0, that were known to be on stable storage (fdatasync returned) when it was written.
 * Recovery uses the marks to tell a torn tail (after the last synced byte) from damage.
 */
export const TYPE_SYNC_MARK = 4;
/** Value length of a sync mark: one u64. */
export const SYNC_MARK_VALUE_BYTES = 8;
/** Total bytes of a sync mark record. */
export const SYNC_MARK_BYTES = 32 + SYNC_MARK_VALUE_BYTES;

/** Flag bit: the record belongs to an atomic batch and takes effect only once its commit record is read. */
export const FLAG_IN_BATCH = 1;

/** Largest record the index can locate (its length field is a u32). */
export const MAX_RECORD_BYTES = 0xffff_ffff;

/** A record type as stored in byte 4 of the header. */
export type RecordType =
  | typeof TYPE_PUT
  | typeof TYPE_DELETE
  | typeof TYPE_BATCH_COMMIT
  | typeof TYPE_SYNC_MARK;

/** Whether `type` is a record type some format version writes to disk. */
export function isRecordType(type: number): boolean {
  return type >= TYPE_PUT && type <= TYPE_SYNC_MARK;
}

/** A decoded record header; `offset` is where the record starts in its buffer. */
export interface RecordHeader {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly expiresAt: number;
  readonly keyLength: number;
  readonly valueLength: number;
}

/** Total bytes of a record with these key and value lengths. */
export function recordBytes(keyLength: number, valueLength: number): number {
  return RECORD_HEADER_BYTES + keyLength + valueLength;
}

function writeU32(b: Uint8Array, at: number, x: number): void {
  b[at] = x;
  b[at + 1] = x >>> 8;
  b[at + 2] = x >>> 16;
  b[at + 3] = x >>> 24;
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Writes a u64 held in a JS number (< 2^53) as two little-endian u32 halves. */
function writeU64(b: Uint8Array, at: number, x: number): void {
  writeU32(b, at, x >>> 0);
  writeU32(b, at + 4, Math.floor(x / 0x1_0000_0000));
}

function readU64(b: Uint8Array, at: number): number {
  return readU32(b, at + 4) * 0x1_0000_0000 + readU32(b, at);
}

/**
 * Writes the header of a record at `at` with seq and CRC left zero, so the caller's thread can
 * lay out records before the writer assigns sequence numbers. The key and value bytes follow it.
 */
export function writeRecordHeader(
  b: Uint8Array,
  at: number,
  type: RecordType | number,
  flags: number,
  expiresAt: number,
  keyLength: number,
  valueLength: number,
): void {
  writeU32(b, at + OFF_CRC, 0);
  b[at + OFF_TYPE] = type;
  b[at + OFF_FLAGS] = flags;
  b[at + 6] = 0;
  b[at + 7] = 0;
  writeU64(b, at + OFF_SEQ, 0);
  writeU64(b, at + OFF_EXPIRES, expiresAt);
  writeU32(b, at + OFF_KEY_LEN, keyLength);
  writeU32(b, at + OFF_VALUE_LEN, valueLength);
}

/** Stamps the sequence number and then the CRC of a fully laid-out record at `at`. */
export function sealRecord(b: Uint8Array, at: number, seq: number): void {
  writeU64(b, at + OFF_SEQ, seq);
  const end =
    at + RECORD_HEADER_BYTES + readU32(b, at + OFF_KEY_LEN) + readU32(b, at + OFF_VALUE_LEN);
  writeU32(b, at + OFF_CRC, crc32c(b, at + 4, end));
}

/**
 * Encodes a complete record (header, key, value, seq and CRC) into a new buffer.
 * Used by tests, the writer's own records (batch commits) and compaction.
 */
export function encodeRecord(
  type: RecordType,
  flags: number,
  seq: number,
  expiresAt: number,
  key: Uint8Array,
  value: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(recordBytes(key.length, value.length));
  writeRecordHeader(b, 0, type, flags, expiresAt, key.length, value.length);
  b.set(key, RECORD_HEADER_BYTES);
  b.set(value, RECORD_HEADER_BYTES + key.length);
  sealRecord(b, 0, seq);
  return b;
}

/** Decodes the header at `at`; the caller must have checked that 32 bytes are there. */
export function decodeHeader(b: Uint8Array, at: number): RecordHeader {
  return {
    type: b[at + OFF_TYPE]!,
    flags: b[at + OFF_FLAGS]!,
    seq: readU64(b, at + OFF_SEQ),
    expiresAt: readU64(b, at + OFF_EXPIRES),
    keyLength: readU32(b, at + OFF_KEY_LEN),
    valueLength: readU32(b, at + OFF_VALUE_LEN),
  };
}

/** Key length of the record at `at` (hot path: no object allocation). */
export function recordKeyLength(b: Uint8Array, at: number): number {
  return readU32(b, at + OFF_KEY_LEN);
}

/** Sequence number of the record at `at` (its version, as `Store.version` reports it). */
export function recordSeq(b: Uint8Array, at: number): number {
  return readU64(b, at + OFF_SEQ);
}

/** Value length of the record at `at`. */
export function recordValueLength(b: Uint8Array, at: number): number {
  return readU32(b, at + OFF_VALUE_LEN);
}

/** Expiry (absolute ms since the epoch, 0 = never) of the record at `at`. */
export function recordExpiresAt(b: Uint8Array, at: number): number {
  return readU64(b, at + OFF_EXPIRES);
}

/** Type byte of the record at `at`. */
export function recordType(b: Uint8Array, at: number): number {
  return b[at + OFF_TYPE]!;
}

/** The u8 flags of the record at `at` (`FLAG_IN_BATCH`; an operation's `SET_*` or `CHECK_*`). */
export function recordFlags(b: Uint8Array, at: number): number {
  return b[at + OFF_FLAGS]!;
}

/** Whether the record at `at` is an operation of an atomic batch (`FLAG_IN_BATCH`). */
export function recordInBatch(b: Uint8Array, at: number): boolean {
  return (b[at + OFF_FLAGS]! & FLAG_IN_BATCH) !== 0;
}

/** Clears `FLAG_IN_BATCH` of the record at `at`; its CRC must then be resealed (`sealRecord`). */
export function clearRecordInBatch(b: Uint8Array, at: number): void {
  b[at + OFF_FLAGS] = b[at + OFF_FLAGS]! & ~FLAG_IN_BATCH;
}

/** Total bytes of the record whose header is at `at`. */
export function recordLengthAt(b: Uint8Array, at: number): number {
  return recordBytes(readU32(b, at + OFF_KEY_LEN), readU32(b, at + OFF_VALUE_LEN));
}

/** Offset of the key bytes of the record at `at`. */
export function recordKeyStart(at: number): number {
  return at + RECORD_HEADER_BYTES;
}

/** Offset of the value bytes of the record at `at`, whose key is `keyLength` bytes. */
export function recordValueStart(at: number, keyLength: number): number {
  return at + RECORD_HEADER_BYTES + keyLength;
}

/**
 * Whether the stored CRC matches the record `b[at, at+length)`. `mapId` is the id of the map `b`
 * is, if it is one (`SegmentFds.viewMapId`), else -1 (crc32c.ts, `crc32cOfMap`).
 */
export function recordChecksumOk(b: Uint8Array, at: number, length: number, mapId = -1): boolean {
  return readU32(b, at + OFF_CRC) === crc32cOfMap(mapId, b, at + 4, at + length);
}

/** Outcome of looking at the bytes at one offset while scanning a segment. */
export type ScanStep =
  | { readonly kind: 'record'; readonly header: RecordHeader; readonly length: number }
  | { readonly kind: 'short' } // fewer bytes remain than the record needs
  | { readonly kind: 'bad'; readonly reason: string };

/**
 * Examines the record starting at `at` in `b[0, end)`: a whole, valid record; too few bytes to
 * hold it (`short`); or a bad one (unknown type, impossible length or CRC mismatch).
 */
export function scanRecord(b: Uint8Array, at: number, end: number): ScanStep {
  if (end - at < RECORD_HEADER_BYTES) return { kind: 'short' };
  const header = decodeHeader(b, at);
  if (!isRecordType(header.type)) {
    return { kind: 'bad', reason: `unknown record type ${header.type}` };
  }
  const length = RECORD_HEADER_BYTES + header.keyLength + header.valueLength;
  if (length > MAX_RECORD_BYTES) return { kind: 'bad', reason: 'record length overflows' };
  if (end - at < length) return { kind: 'short' };
  if (!recordChecksumOk(b, at, length)) return { kind: 'bad', reason: 'checksum mismatch' };
  return { kind: 'record', header, length };
}

/** Value of a batch commit record: the number of records the batch holds before it. */
export function encodeBatchCommitValue(count: number): Uint8Array {
  const v = new Uint8Array(4);
  writeU32(v, 0, count);
  return v;
}

/** Reads the record count out of a batch commit record at `at`. */
export function batchCommitCount(b: Uint8Array, at: number): number {
  return readU32(b, at + RECORD_HEADER_BYTES + readU32(b, at + OFF_KEY_LEN));
}

/**
 * Encodes a sync mark saying the segment's first `syncedThrough` bytes were on stable storage
 * when it was written, with sequence number `seq`, into a new `SYNC_MARK_BYTES` buffer.
 */
export function encodeSyncMark(seq: number, syncedThrough: number): Uint8Array {
  const b = new Uint8Array(SYNC_MARK_BYTES);
  writeRecordHeader(b, 0, TYPE_SYNC_MARK, 0, 0, 0, SYNC_MARK_VALUE_BYTES);
  writeU64(b, RECORD_HEADER_BYTES, syncedThrough);
  sealRecord(b, 0, seq);
  return b;
}

/** The synced byte count a (valid) sync mark record at `at` states. */
export function syncMarkValue(b: Uint8Array, at: number): number {
  return readU64(b, at + RECORD_HEADER_BYTES + readU32(b, at + OFF_KEY_LEN));
}

/**
 * The offset of the first whole, valid record that starts in `b[from, end)`, or -1: how a scan
 * finds its footing again after damage. Every byte offset is tried (records have no
 * alignment); a candidate must have a known type, zero reserved bytes, lengths that fit and a
 * matching CRC, so a false match needs a 32-bit CRC collision on top of the cheap checks.
 */
export function findNextRecord(b: Uint8Array, from: number, end: number): number {
  for (let at = from; at + RECORD_HEADER_BYTES <= end; at++) {
    if (!isRecordType(b[at + OFF_TYPE]!) || b[at + 6] !== 0 || b[at + 7] !== 0) continue;
    if ((b[at + OFF_FLAGS]! & ~FLAG_IN_BATCH) !== 0) continue;
    const length =
      RECORD_HEADER_BYTES + readU32(b, at + OFF_KEY_LEN) + readU32(b, at + OFF_VALUE_LEN);
    if (length > end - at) continue;
    if (recordChecksumOk(b, at, length)) return at;
  }
  return -1;
}
