// The one definition of a point entry (FORMAT.md, "Data segment"): the layout of one key's
// record in a data block of a merged sorted segment (`NNNNNN.sst`). Unlike the key-run layout
// (sorted-block.ts, shared key prefixes), a point entry holds its whole key, its absolute
// sequence number and its own checksum, so a point read that the index sends to its file
// offset checks and decodes it alone, without the rest of its block.

import { crc32c, crc32cOfMap } from './crc32c.js';
import { TYPE_DELETE, TYPE_PUT } from './format.js';
import {
  COMPRESSION_ZSTD,
  ENTRY_FLAG_COMPRESSED,
  ENTRY_FLAG_DELETE,
  ENTRY_FLAG_EXPIRES,
  POINT_ENTRY_FLAGS_KNOWN,
} from './sorted-format.js';
import {
  MAX_U53,
  readVarint32,
  readVarint53,
  type VarintCursor,
  varintLength,
  writeVarint,
} from './varint.js';

/** Bytes of the entry's checksum, its first field. */
export const POINT_CRC_BYTES = 4;

/**
 * Bytes of the point entry for a key of `keyLength` bytes: a put of `valueLength` bytes, or a
 * delete (`isDelete`, no value length and no value), with sequence number `seq` and expiry
 * `expiresAt` (0 = none).
 */
export function pointEntryLength(
  keyLength: number,
  valueLength: number,
  isDelete: boolean,
  seq: number,
  expiresAt: number,
): number {
  return (
    POINT_CRC_BYTES +
    1 +
    varintLength(keyLength) +
    (isDelete ? 0 : varintLength(valueLength) + valueLength) +
    varintLength(seq) +
    (expiresAt !== 0 ? varintLength(expiresAt) : 0) +
    keyLength
  );
}

/**
 * Writes the point entry into `out` at `at` (which must have room for `pointEntryLength`):
 * u32 CRC32C of the bytes after it, u8 flags, varint key length, varint value length (puts),
 * varint seq, varint expiry (when set), key, value. `compressed`: `value` is a compressed value
 * (point-value.ts), flagged `ENTRY_FLAG_COMPRESSED`. Returns the offset just past it.
 */
export function writePointEntry(
  out: Uint8Array,
  at: number,
  type: typeof TYPE_PUT | typeof TYPE_DELETE,
  key: Uint8Array,
  value: Uint8Array,
  seq: number,
  expiresAt: number,
  compressed = false,
): number {
  const isDelete = type === TYPE_DELETE;
  let p = at + POINT_CRC_BYTES;
  out[p++] =
    (isDelete ? ENTRY_FLAG_DELETE : 0) |
    (expiresAt !== 0 ? ENTRY_FLAG_EXPIRES : 0) |
    (compressed && !isDelete ? ENTRY_FLAG_COMPRESSED : 0);
  p = writeVarint(out, p, key.length);
  if (!isDelete) p = writeVarint(out, p, value.length);
  p = writeVarint(out, p, seq);
  if (expiresAt !== 0) p = writeVarint(out, p, expiresAt);
  out.set(key, p);
  p += key.length;
  if (!isDelete) {
    out.set(value, p);
    p += value.length;
  }
  const crc = crc32c(out, at + POINT_CRC_BYTES, p);
  out[at] = crc & 0xff;
  out[at + 1] = (crc >>> 8) & 0xff;
  out[at + 2] = (crc >>> 16) & 0xff;
  out[at + 3] = crc >>> 24;
  return p;
}

/** A decoded point entry's fields; offsets are into the bytes it was decoded from. */
export class PointEntryFields {
  type: typeof TYPE_PUT | typeof TYPE_DELETE = TYPE_PUT;
  keyStart = 0;
  keyLength = 0;
  valueStart = 0;
  /** Bytes of the value field: a compressed value's, when `compressed`. */
  valueLength = 0;
  /** Whether the value field is a compressed value (point-value.ts). */
  compressed = false;
  seq = 0;
  expiresAt = 0;
  /** Offset just past the entry. */
  end = 0;
}

const cursor: VarintCursor = { pos: 0 };
/** The highest codec a compressed value may name (sorted-format.ts COMPRESSION_ZSTD). */
const MAX_VALUE_CODEC = COMPRESSION_ZSTD;

/**
 * Decodes the point entry at `bytes[at]`, which must end at or before `limit`, into `into`.
 * Checks its structure (known flags, varints whole, an expiry only on a put and never 0, key
 * and value within `limit`, a compressed value's codec known), not its checksum. Returns false
 * if the bytes do not hold one.
 */
export function decodePointEntry(
  bytes: Uint8Array,
  at: number,
  limit: number,
  into: PointEntryFields,
): boolean {
  if (at + POINT_CRC_BYTES + 1 > limit) return false;
  const flags = bytes[at + POINT_CRC_BYTES]!;
  if ((flags & ~POINT_ENTRY_FLAGS_KNOWN) !== 0) return false;
  const isDelete = (flags & ENTRY_FLAG_DELETE) !== 0;
  const expires = (flags & ENTRY_FLAG_EXPIRES) !== 0;
  const compressed = (flags & ENTRY_FLAG_COMPRESSED) !== 0;
  if (isDelete && (expires || compressed)) return false;
  cursor.pos = at + POINT_CRC_BYTES + 1;
  const keyLength = readVarint32(bytes, cursor, limit);
  const valueLength = isDelete ? 0 : readVarint32(bytes, cursor, limit);
  const seq = readVarint53(bytes, cursor, limit);
  const expiresAt = expires ? readVarint53(bytes, cursor, limit) : 0;
  if (
    typeof keyLength === 'string' ||
    typeof valueLength === 'string' ||
    typeof seq === 'string' ||
    typeof expiresAt === 'string' ||
    seq > MAX_U53 ||
    (expires && expiresAt === 0)
  ) {
    return false;
  }
  const keyStart = cursor.pos;
  const end = keyStart + keyLength + valueLength;
  if (end > limit) return false;
  // A compressed value starts with its codec, never "none" (point-value.ts).
  const codec = bytes[keyStart + keyLength];
  if (compressed && (valueLength < 2 || codec === 0 || codec! > MAX_VALUE_CODEC)) return false;
  into.type = isDelete ? TYPE_DELETE : TYPE_PUT;
  into.keyStart = keyStart;
  into.keyLength = keyLength;
  into.valueStart = keyStart + keyLength;
  into.valueLength = valueLength;
  into.compressed = compressed;
  into.seq = seq;
  into.expiresAt = expiresAt;
  into.end = end;
  return true;
}

/**
 * Whether the point entry of `length` bytes at `bytes[at]` has the checksum it carries. `mapId`
 * as for `recordChecksumOk` (format.ts).
 */
export function pointEntryChecksumOk(
  bytes: Uint8Array,
  at: number,
  length: number,
  mapId = -1,
): boolean {
  if (length < POINT_CRC_BYTES + 1) return false;
  const stored =
    (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
  return stored === crc32cOfMap(mapId, bytes, at + POINT_CRC_BYTES, at + length);
}
