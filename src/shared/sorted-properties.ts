// The one definition of a sorted segment's properties block (FORMAT.md, "Properties block"):
// counts, the sequence range, byte totals, the compression setting and the first and last keys,
// so that accounting and range planning need not read the data blocks.

import { ByteBuilder } from './byte-builder.js';
import { compareKeys } from './key-order.js';
import { COMPRESSION_ZSTD, type CompressionType, SortedDecodeFailure } from './sorted-format.js';
import { readVarint53, type VarintCursor } from './varint.js';

/** What the properties block says about its segment. */
export interface SortedProperties {
  /** Entries (puts and deletes). */
  readonly entries: number;
  /** Of those, deletes (tombstones). */
  readonly tombstones: number;
  /** Of those, puts with an expiry. */
  readonly expiring: number;
  /** Least and greatest sequence number of the entries (both 0 when there are none). */
  readonly minSeq: number;
  readonly maxSeq: number;
  /** Total bytes of the entries' keys and of their values, as the user wrote them. */
  readonly keyBytes: number;
  readonly valueBytes: number;
  /** Data blocks in the file. */
  readonly dataBlocks: number;
  /** The compression the writer was set to use (a block that did not shrink is stored raw). */
  readonly compression: CompressionType;
  /** The first and last key (empty when there are no entries). */
  readonly firstKey: Uint8Array;
  readonly lastKey: Uint8Array;
  /**
   * The store's log sequence number when the file was made (a merge's planning point), at
   * least `maxSeq`; recovery never hands out a number at or below it again, though records
   * the merge dropped had them. Absent (and absent from the bytes) when not given.
   */
  readonly logSeq?: number;
  /**
   * Point-entry files: bytes of all entries (the rest of the file is block framing, index,
   * filter, properties and footer). Written after `logSeq`; absent in key runs. Both are
   * present whenever either was written, 0 included.
   */
  readonly entryBytes?: number;
}

/**
 * The raw properties block: varints entries, tombstones, expiring, min seq, max seq, key bytes,
 * value bytes, data blocks; u8 compression; varint first key length, first key; varint last
 * key length, last key; then, if either is given, varint log sequence number and
 * varint entry bytes.
 */
export function encodeProperties(p: SortedProperties): Uint8Array {
  const out = new ByteBuilder(64 + p.firstKey.length + p.lastKey.length);
  out.varint(p.entries);
  out.varint(p.tombstones);
  out.varint(p.expiring);
  out.varint(p.minSeq);
  out.varint(p.maxSeq);
  out.varint(p.keyBytes);
  out.varint(p.valueBytes);
  out.varint(p.dataBlocks);
  out.byte(p.compression);
  out.varint(p.firstKey.length);
  out.bytes(p.firstKey);
  out.varint(p.lastKey.length);
  out.bytes(p.lastKey);
  if (p.logSeq !== undefined || p.entryBytes !== undefined) {
    out.varint(p.logSeq ?? 0);
    out.varint(p.entryBytes ?? 0);
  }
  return out.copy();
}

/**
 * Decodes and checks the raw properties block stored at file offset `offset`: every field
 * whole, nothing after the last key, the counts and seq range consistent with each other.
 */
export function decodeProperties(
  raw: Uint8Array,
  offset: number,
): SortedProperties | SortedDecodeFailure {
  const at: VarintCursor = { pos: 0 };
  const numbers: number[] = [];
  for (let i = 0; i < 8; i++) {
    const n = readVarint53(raw, at, raw.length);
    if (typeof n === 'string') return new SortedDecodeFailure('bad-varint', offset, 'properties');
    numbers.push(n);
  }
  const [entries, tombstones, expiring, minSeq, maxSeq, keyBytes, valueBytes, dataBlocks] =
    numbers as [number, number, number, number, number, number, number, number];
  const bad = new SortedDecodeFailure('bad-properties', offset, 'properties');
  if (at.pos >= raw.length) return bad;
  const compression = raw[at.pos++]!;
  const firstKey = readKey(raw, at);
  const lastKey = firstKey && readKey(raw, at);
  const extended = at.pos < raw.length;
  const logSeq = extended ? readVarint53(raw, at, raw.length) : 0;
  const entryBytes = extended ? readVarint53(raw, at, raw.length) : 0;
  if (
    !firstKey ||
    !lastKey ||
    typeof logSeq === 'string' ||
    typeof entryBytes === 'string' ||
    at.pos !== raw.length ||
    (logSeq !== 0 && logSeq < maxSeq) ||
    compression > COMPRESSION_ZSTD ||
    tombstones + expiring > entries ||
    (entries === 0) !== (dataBlocks === 0) ||
    dataBlocks > entries ||
    minSeq > maxSeq ||
    (entries === 0 &&
      (maxSeq !== 0 || keyBytes !== 0 || valueBytes !== 0 || lastKey.length !== 0)) ||
    compareKeys(firstKey, lastKey) > 0
  ) {
    return bad;
  }
  return {
    entries,
    tombstones,
    expiring,
    minSeq,
    maxSeq,
    keyBytes,
    valueBytes,
    dataBlocks,
    compression: compression as CompressionType,
    firstKey,
    lastKey,
    ...(extended ? { logSeq, entryBytes } : {}),
  };
}

function readKey(raw: Uint8Array, at: VarintCursor): Uint8Array | undefined {
  const length = readVarint53(raw, at, raw.length);
  if (typeof length === 'string' || at.pos + length > raw.length) return undefined;
  const key = raw.slice(at.pos, at.pos + length);
  at.pos += length;
  return key;
}
