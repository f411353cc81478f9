// Owns the compressed value of a point entry (FORMAT.md, "Data segment"). A data segment is
// written with the store's `compression`: each put's value is compressed on its own (not the
// block), when that saves at least 1/8 of it, so a get still reads and checks one entry alone
// and decompresses one value. The value field of such an entry (ENTRY_FLAG_COMPRESSED) is:
// u8 codec type (sorted-format.ts COMPRESSION_LZ4 or COMPRESSION_ZSTD), varint raw length,
// then the codec's payload as a block stores it (block-compression.ts).

import { decompressBlock } from './block-compression.js';
import { KvError } from './errors.js';
import { type BlockCompressor, COMPRESSION_NONE } from './sorted-format.js';
import { readVarint32, varintLength, writeVarint } from './varint.js';

/**
 * Values shorter than this are stored as they are: a codec's own framing (lz4-napi's 4-byte
 * length, a zstd frame header) leaves little to gain below it.
 */
export const MIN_COMPRESSED_VALUE_BYTES = 64;

/**
 * The compressed value field for `value`, or undefined to store `value` as it is (compression
 * 'none', a short value, or a saving under 1/8). Never keeps `value`.
 */
export function compressValue(
  compressor: BlockCompressor,
  value: Uint8Array,
): Uint8Array | undefined {
  if (compressor.type === COMPRESSION_NONE || value.length < MIN_COMPRESSED_VALUE_BYTES) {
    return undefined;
  }
  const packed = compressor.compress(value); // undefined unless it saves 1/8
  if (packed === undefined) return undefined;
  const length = 1 + varintLength(value.length) + packed.length;
  if (length + (value.length >>> 3) > value.length) return undefined;
  const out = new Uint8Array(length);
  out[0] = compressor.type;
  out.set(packed, writeVarint(out, 1, value.length));
  return out;
}

/**
 * The value's own bytes from the compressed value field `bytes[start, start + length)`, whose
 * entry checksum the caller has checked. Returns a new array the caller owns.
 *
 * @throws KvError `KV_CORRUPTION` when the field does not decode to its stated length (the
 *   message says why; the caller adds the file and offset), `KV_INVALID_ARGUMENT` when the
 *   codec's package does not load (block-compression.ts `CompressionUnavailableError`).
 */
export function decompressValue(bytes: Uint8Array, start: number, length: number): Uint8Array {
  const end = start + length;
  const at = { pos: start + 1 };
  const rawLength = length < 2 ? 'short' : readVarint32(bytes, at, end);
  const type = bytes[start]!;
  if (typeof rawLength === 'string' || type === COMPRESSION_NONE) {
    throw new KvError('KV_CORRUPTION', 'a compressed value has no valid header');
  }
  return decompressBlock(type, bytes.subarray(at.pos, end), rawLength);
}
