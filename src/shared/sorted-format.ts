// The one definition of the sorted-segment file's framing (FORMAT.md, "Sorted segment"): magic,
// version, block trailer (compression type and CRC32C), footer, entry flags, the compression
// hooks, and the typed reasons a decoder gives for bytes it cannot trust. Block contents are
// sorted-block.ts, sorted-index.ts, bloom-filter.ts and sorted-properties.ts.

import { crc32c } from './crc32c.js';
import { getU64, setU64 } from './data-view-u64.js';
import { KvError } from './errors.js';
import type { TYPE_DELETE, TYPE_PUT } from './format.js';
import { readVarint32, type VarintCursor, varintLength, writeVarint } from './varint.js';

/** Magic of a sorted segment, the last 4 bytes of the file: ASCII "KVDT" as a little-endian u32. */
export const SORTED_MAGIC = 0x5444564b;
/** Sorted-segment layout version (footer bytes 48..49); bumped whenever any layout here changes. */
export const SORTED_VERSION = 1;
/**
 * The version of a data segment whose point entries may hold compressed values
 * (`ENTRY_FLAG_COMPRESSED`, point-value.ts); files without any keep version 1. Both are read.
 */
export const SORTED_VERSION_COMPRESSED_VALUES = 2;
/** Bytes of the footer, the file's last bytes. */
export const FOOTER_BYTES = 60;
/** Bytes after every block's stored payload: u8 compression type, u32 CRC32C. */
export const BLOCK_TRAILER_BYTES = 5;

/** Block compression (trailer byte): stored as is. */
export const COMPRESSION_NONE = 0;
/** LZ4 block format (reserved: kvd does not ship the codec in this module). */
export const COMPRESSION_LZ4 = 1;
/** Zstandard frame (reserved: kvd does not ship the codec in this module). */
export const COMPRESSION_ZSTD = 2;
/** A block's compression type. */
export type CompressionType =
  | typeof COMPRESSION_NONE
  | typeof COMPRESSION_LZ4
  | typeof COMPRESSION_ZSTD;

/** Entry flag: a tombstone (no value length, no value). Clear: a put. */
export const ENTRY_FLAG_DELETE = 1;
/** Entry flag: a varint expiry (ms since the epoch) follows the sequence number. */
export const ENTRY_FLAG_EXPIRES = 2;
/** Every entry flag; any other bit set is a bad entry. */
export const ENTRY_FLAGS_KNOWN = ENTRY_FLAG_DELETE | ENTRY_FLAG_EXPIRES;
/**
 * Point entries only (a put): the value field is a compressed value (point-value.ts), not the
 * value's bytes.
 */
export const ENTRY_FLAG_COMPRESSED = 4;
/** Every point entry flag; any other bit set is a bad entry. */
export const POINT_ENTRY_FLAGS_KNOWN = ENTRY_FLAGS_KNOWN | ENTRY_FLAG_COMPRESSED;

/** One key's record in a sorted segment, as the writer takes it and the reader returns it. */
export interface SortedEntry {
  /** The key's bytes. */
  readonly key: Uint8Array;
  /** `TYPE_PUT` or `TYPE_DELETE` (format.ts), as in log records. */
  readonly type: typeof TYPE_PUT | typeof TYPE_DELETE;
  /** The value's bytes; empty for a delete. */
  readonly value: Uint8Array;
  /** The record's sequence number (0..2^53-1), exactly as in the log. */
  readonly seq: number;
  /** Expiry in ms since the epoch; 0 = never (always 0 for a delete). */
  readonly expiresAt: number;
  /**
   * Writer side, point entries only: `value` is already a compressed value (point-value.ts),
   * stored with `ENTRY_FLAG_COMPRESSED`. Readers always return the value's own bytes.
   */
  readonly compressedValue?: boolean;
}

/** Compresses blocks as the writer seals them; injected, so this module carries no codec. */
export interface BlockCompressor {
  /** The trailer type its output is stored under (`COMPRESSION_LZ4` or `COMPRESSION_ZSTD`). */
  readonly type: CompressionType;
  /** The compressed form of `raw`, or undefined to store it raw. Must not keep `raw`. */
  compress(raw: Uint8Array): Uint8Array | undefined;
}

/** Decompresses blocks as the reader opens them; injected like `BlockCompressor`. */
export interface BlockDecompressor {
  /**
   * `rawLength` bytes decompressed from `bytes` stored under `type`; undefined if this
   * decompressor does not handle `type`. May throw on bytes it cannot decode (the reader reports
   * `bad-compression`); a `KvError` it throws with another code than `KV_CORRUPTION` (such as a
   * binding that does not load) goes through the reader to its caller.
   */
  decompress(type: CompressionType, bytes: Uint8Array, rawLength: number): Uint8Array | undefined;
}

/** The part of a sorted segment a failure lies in. */
export type SortedRegion = 'data' | 'index' | 'filter' | 'properties' | 'footer';

/**
 * Why bytes of a sorted segment cannot be trusted. `truncated`: the file or a block ends early;
 * `bad-magic`; `unsupported-version`; `checksum`: a block's or the footer's CRC does not match;
 * `bad-footer`: reserved bytes or block handles do not fit; `bad-varint`; `bad-block`: a
 * block's structure (lengths, restarts, flags) does not hold together; `out-of-order`: keys not
 * strictly increasing (in a block, in the index, or against a fence post); `bad-compression`:
 * an unknown compression type, or a block that does not decompress to its stated length;
 * `compression-unavailable`: a reserved compression type with no decompressor supplied;
 * `bad-index`, `bad-filter`, `bad-properties`: those blocks disagree with themselves or the file.
 */
export type SortedFailureReason =
  | 'truncated'
  | 'bad-magic'
  | 'unsupported-version'
  | 'checksum'
  | 'bad-footer'
  | 'bad-varint'
  | 'bad-block'
  | 'out-of-order'
  | 'bad-compression'
  | 'compression-unavailable'
  | 'bad-index'
  | 'bad-filter'
  | 'bad-properties';

/**
 * A decoder's typed refusal: what is wrong, where in the file, and in which part. Decoders
 * return it instead of throwing; callers map it to `KV_CORRUPTION` (`sortedCorruption`).
 */
export class SortedDecodeFailure {
  constructor(
    /** What is wrong. */
    readonly reason: SortedFailureReason,
    /** File offset of the bad bytes (a block's first byte when the whole block is refused). */
    readonly offset: number,
    /** The part of the file they belong to. */
    readonly region: SortedRegion,
  ) {}
}

/** Whether a decoder's result is a failure. */
export function isSortedFailure(x: unknown): x is SortedDecodeFailure {
  return x instanceof SortedDecodeFailure;
}

/** A `KV_CORRUPTION` KvError naming `file` and the failure's reason, region and offset. */
export function sortedCorruption(failure: SortedDecodeFailure, file: string): KvError {
  return new KvError(
    'KV_CORRUPTION',
    `${file}: sorted segment ${failure.region} at offset ${failure.offset}: ${failure.reason}`,
  );
}

/** Where a block lies: its stored payload is `size` bytes at `offset`, the trailer follows. */
export interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/**
 * A block as stored: `raw` compressed by `compressor` when that saves bytes (then prefixed with
 * the varint raw length), else raw; then the trailer. Returns a new array the caller owns.
 */
export function sealBlock(raw: Uint8Array, compressor?: BlockCompressor): Uint8Array {
  let type: CompressionType = COMPRESSION_NONE;
  let payload = raw;
  const packed = compressor && compressor.type !== COMPRESSION_NONE && compressor.compress(raw);
  if (packed && varintLength(raw.length) + packed.length < raw.length) {
    type = compressor!.type;
    payload = new Uint8Array(varintLength(raw.length) + packed.length);
    payload.set(packed, writeVarint(payload, 0, raw.length));
  }
  const out = new Uint8Array(payload.length + BLOCK_TRAILER_BYTES);
  out.set(payload);
  out[payload.length] = type;
  const crc = crc32c(out, 0, payload.length + 1);
  new DataView(out.buffer).setUint32(payload.length + 1, crc, true);
  return out;
}

/**
 * The raw contents of the stored block `stored` (payload and trailer) that starts at file
 * offset `offset`: checks the CRC, then decompresses if needed. The result may be a view of
 * `stored`. Returns a failure in `region` if the block cannot be trusted.
 */
export function openBlock(
  stored: Uint8Array,
  offset: number,
  region: SortedRegion,
  decompressor?: BlockDecompressor,
): Uint8Array | SortedDecodeFailure {
  if (stored.length < BLOCK_TRAILER_BYTES)
    return new SortedDecodeFailure('truncated', offset, region);
  const end = stored.length - BLOCK_TRAILER_BYTES;
  const v = new DataView(stored.buffer, stored.byteOffset, stored.length);
  if (v.getUint32(end + 1, true) !== crc32c(stored, 0, end + 1)) {
    return new SortedDecodeFailure('checksum', offset, region);
  }
  const type = stored[end]!;
  if (type === COMPRESSION_NONE) return stored.subarray(0, end);
  if (type !== COMPRESSION_LZ4 && type !== COMPRESSION_ZSTD) {
    return new SortedDecodeFailure('bad-compression', offset + end, region);
  }
  const cursor: VarintCursor = { pos: 0 };
  const rawLength = readVarint32(stored, cursor, end);
  if (typeof rawLength === 'string') return new SortedDecodeFailure('bad-varint', offset, region);
  if (!decompressor)
    return new SortedDecodeFailure('compression-unavailable', offset + end, region);
  let raw: Uint8Array | undefined;
  try {
    raw = decompressor.decompress(type, stored.subarray(cursor.pos, end), rawLength);
  } catch (error) {
    // A KvError that is not about the bytes (a codec binding that does not load) is not damage.
    if (error instanceof KvError && error.code !== 'KV_CORRUPTION') throw error;
    return new SortedDecodeFailure('bad-compression', offset, region);
  }
  if (!raw) return new SortedDecodeFailure('compression-unavailable', offset + end, region);
  if (raw.length !== rawLength) return new SortedDecodeFailure('bad-compression', offset, region);
  return raw;
}

/** What the footer says: where the index, filter and properties blocks lie, and whose file it is. */
export interface SortedFooter {
  readonly index: BlockHandle;
  readonly filter: BlockHandle;
  readonly properties: BlockHandle;
  /** The segment id in the file's name. */
  readonly segmentId: number;
  /** The span of log segment ids whose records the file holds, as in a segment header. */
  readonly first: number;
  readonly last: number;
  /**
   * Whether data blocks hold point entries (point-entry-format.ts: a merged data segment,
   * `NNNNNN.sst`) rather than prefix-shared ones (a key run). Footer flag bit 0.
   */
  readonly pointEntries: boolean;
  /** Whether some point entry holds a compressed value: then version 2, else 1. */
  readonly compressedValues?: boolean;
}

/** Footer flag: data blocks hold point entries. */
export const FOOTER_FLAG_POINT_ENTRIES = 1;
/** Every footer flag; any other bit set is a bad footer. */
const FOOTER_FLAGS_KNOWN = FOOTER_FLAG_POINT_ENTRIES;

/** Footer layout: three u64 block offsets, three u32 sizes, u32 id, first, last, u16 version, u16 flags, u32 CRC, u32 magic. */
const F_INDEX_OFFSET = 0;
const F_FILTER_OFFSET = 8;
const F_PROPERTIES_OFFSET = 16;
const F_INDEX_SIZE = 24;
const F_FILTER_SIZE = 28;
const F_PROPERTIES_SIZE = 32;
const F_SEGMENT_ID = 36;
const F_FIRST = 40;
const F_LAST = 44;
const F_VERSION = 48;
const F_FLAGS = 50;
const F_CRC = 52;
const F_MAGIC = 56;

/** The 60-byte footer for `footer`. */
export function encodeFooter(footer: SortedFooter): Uint8Array {
  const out = new Uint8Array(FOOTER_BYTES);
  const v = new DataView(out.buffer);
  setU64(v, F_INDEX_OFFSET, footer.index.offset);
  setU64(v, F_FILTER_OFFSET, footer.filter.offset);
  setU64(v, F_PROPERTIES_OFFSET, footer.properties.offset);
  v.setUint32(F_INDEX_SIZE, footer.index.size, true);
  v.setUint32(F_FILTER_SIZE, footer.filter.size, true);
  v.setUint32(F_PROPERTIES_SIZE, footer.properties.size, true);
  v.setUint32(F_SEGMENT_ID, footer.segmentId, true);
  v.setUint32(F_FIRST, footer.first, true);
  v.setUint32(F_LAST, footer.last, true);
  const version = footer.compressedValues ? SORTED_VERSION_COMPRESSED_VALUES : SORTED_VERSION;
  v.setUint16(F_VERSION, version, true);
  v.setUint16(F_FLAGS, footer.pointEntries ? FOOTER_FLAG_POINT_ENTRIES : 0, true);
  v.setUint32(F_CRC, crc32c(out, 0, F_CRC), true);
  v.setUint32(F_MAGIC, SORTED_MAGIC, true);
  return out;
}

/**
 * Checks and decodes the footer `bytes` (the last `FOOTER_BYTES` of a file of `fileSize`
 * bytes): magic, then version (so a future layout is refused as unsupported, not as damage),
 * then CRC, then that the index, filter and properties blocks follow each other up to it.
 */
export function decodeFooter(
  bytes: Uint8Array,
  fileSize: number,
): SortedFooter | SortedDecodeFailure {
  const at = fileSize - FOOTER_BYTES;
  if (fileSize < FOOTER_BYTES || bytes.length !== FOOTER_BYTES) {
    return new SortedDecodeFailure('truncated', 0, 'footer');
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (v.getUint32(F_MAGIC, true) !== SORTED_MAGIC) {
    return new SortedDecodeFailure('bad-magic', at + F_MAGIC, 'footer');
  }
  const version = v.getUint16(F_VERSION, true);
  if (version !== SORTED_VERSION && version !== SORTED_VERSION_COMPRESSED_VALUES) {
    return new SortedDecodeFailure('unsupported-version', at + F_VERSION, 'footer');
  }
  if (v.getUint32(F_CRC, true) !== crc32c(bytes, 0, F_CRC)) {
    return new SortedDecodeFailure('checksum', at, 'footer');
  }
  const index = { offset: getU64(v, F_INDEX_OFFSET), size: v.getUint32(F_INDEX_SIZE, true) };
  const filter = { offset: getU64(v, F_FILTER_OFFSET), size: v.getUint32(F_FILTER_SIZE, true) };
  const properties = {
    offset: getU64(v, F_PROPERTIES_OFFSET),
    size: v.getUint32(F_PROPERTIES_SIZE, true),
  };
  if (
    (v.getUint16(F_FLAGS, true) & ~FOOTER_FLAGS_KNOWN) !== 0 ||
    blockEnd(index) !== filter.offset ||
    blockEnd(filter) !== properties.offset ||
    blockEnd(properties) !== at
  ) {
    return new SortedDecodeFailure('bad-footer', at, 'footer');
  }
  return {
    index,
    filter,
    properties,
    segmentId: v.getUint32(F_SEGMENT_ID, true),
    first: v.getUint32(F_FIRST, true),
    last: v.getUint32(F_LAST, true),
    pointEntries: (v.getUint16(F_FLAGS, true) & FOOTER_FLAG_POINT_ENTRIES) !== 0,
    compressedValues: version === SORTED_VERSION_COMPRESSED_VALUES,
  };
}

/** File offset just past the block `h` (its payload and trailer). */
export function blockEnd(h: BlockHandle): number {
  return h.offset + h.size + BLOCK_TRAILER_BYTES;
}
