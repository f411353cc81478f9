// Builds a sorted segment (FORMAT.md, "Sorted segment") as a stream of byte chunks from entries
// given in strictly increasing key order: data blocks as they fill, then the index, filter,
// properties and footer. No I/O: the caller appends each chunk to the file through its own layer.

import { Buffer } from 'node:buffer';
import { BloomFilterBuilder, DEFAULT_BITS_PER_KEY } from './bloom-filter.js';
import { KvError } from './errors.js';
import { TYPE_DELETE, TYPE_PUT } from './format.js';
import { compareKeys, shortestSeparator } from './key-order.js';
import { pointEntryLength } from './point-entry-format.js';
import { compressValue } from './point-value.js';
import { DataBlockBuilder, DEFAULT_RESTART_INTERVAL } from './sorted-block.js';
import {
  BLOCK_TRAILER_BYTES,
  type BlockCompressor,
  type BlockHandle,
  COMPRESSION_NONE,
  type CompressionType,
  encodeFooter,
  type SortedEntry,
  sealBlock,
} from './sorted-format.js';
import { IndexBlockBuilder } from './sorted-index.js';
import { encodeProperties } from './sorted-properties.js';
import { MAX_U32 } from './varint.js';

/** Target raw size of a data block; a block is cut once its entries reach it. */
export const DEFAULT_BLOCK_BYTES = 4096;

/** How to build a sorted segment. */
export interface SortedSegmentWriterOptions {
  /** The segment id in the file's name, recorded in the footer. */
  readonly segmentId: number;
  /** The span of log segment ids the file's records come from, recorded in the footer. */
  readonly first: number;
  readonly last: number;
  /** Target raw bytes of a data block (default 4096). */
  readonly blockBytes?: number;
  /** Entries between restart points in a data block (default 16). */
  readonly restartInterval?: number;
  /** Bloom filter bits per key (default 10). */
  readonly bitsPerKey?: number;
  /** Compresses data and index blocks; none by default. */
  readonly compressor?: BlockCompressor;
  /**
   * Write point entries (a merged data segment): each entry's file offset and length are then
   * `lastEntryOffset` and `lastEntryLength` after its `add`, for the index. Blocks are then
   * never compressed (an index slot points into the file's bytes), so recovery reads the file
   * without a codec: `compressor` compresses each put's value on its own instead, where that
   * saves 1/8 (point-value.ts), and the footer then says version 2.
   */
  readonly pointEntries?: boolean;
  /** The store's log sequence number to record in the properties (sorted-properties.ts). */
  readonly logSeq?: number;
}

/**
 * A sorted segment being built. `add` the entries in strictly increasing key order, append
 * every chunk `add` returns to the file in order, then append `finish()`'s. The chunks are new
 * arrays the caller owns. Throws `KV_INTERNAL` on an entry out of order or malformed (an engine
 * bug: the merge feeds it), and after `finish`.
 */
export class SortedSegmentWriter {
  private readonly block: DataBlockBuilder;
  private readonly index = new IndexBlockBuilder();
  private readonly filter: BloomFilterBuilder;
  private readonly blockBytes: number;
  private written = 0;
  private finished = false;
  private lastKey: Uint8Array | undefined;
  private firstKey: Uint8Array | undefined;
  /** The last block written whose fence post waits for the next block's first key. */
  private pending: { lastKey: Uint8Array; size: number } | undefined;
  private entries = 0;
  private tombstones = 0;
  private expiring = 0;
  private minSeq = Number.MAX_SAFE_INTEGER;
  private maxSeq = 0;
  private keyBytes = 0;
  private valueBytes = 0;
  private dataBlocks = 0;
  /** Point layout: bytes of all entries added. */
  private entryBytes = 0;
  /** Point layout: puts whose value is stored compressed, and their codec. */
  private compressedValues = 0;
  private valueCodec: CompressionType = COMPRESSION_NONE;

  constructor(private readonly options: SortedSegmentWriterOptions) {
    this.block = new DataBlockBuilder(
      options.restartInterval ?? DEFAULT_RESTART_INTERVAL,
      options.pointEntries ?? false,
    );
    this.filter = new BloomFilterBuilder(options.bitsPerKey ?? DEFAULT_BITS_PER_KEY);
    this.blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  }

  /** Point layout: file offset of the entry the last `add` took. */
  lastEntryOffset = 0;
  /** Point layout: bytes of the entry the last `add` took. */
  lastEntryLength = 0;

  /** Bytes of all chunks returned so far: the file's size once they are appended. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Adds `entry`; returns a sealed data block to append if this entry filled one. */
  add(given: SortedEntry): Uint8Array | undefined {
    this.check(given);
    const rawValueBytes = given.value.length;
    const entry = this.options.pointEntries ? this.withCompressedValue(given) : given;
    if (entry.compressedValue) {
      this.compressedValues++;
      this.valueCodec = entry.value[0]! as CompressionType; // point-value.ts: the codec byte
    }
    if (this.pending) {
      const { lastKey, size } = this.pending;
      this.index.add(shortestSeparator(lastKey, entry.key), size);
      this.pending = undefined;
    }
    const inBlock = this.block.add(entry);
    if (this.options.pointEntries) {
      this.lastEntryOffset = this.written + inBlock;
      this.lastEntryLength = pointEntryLength(
        entry.key.length,
        entry.value.length,
        entry.type === TYPE_DELETE,
        entry.seq,
        entry.expiresAt,
      );
      this.entryBytes += this.lastEntryLength;
    }
    this.filter.add(entry.key);
    this.lastKey = entry.key.slice();
    this.firstKey ??= this.lastKey;
    this.entries++;
    if (entry.type === TYPE_DELETE) this.tombstones++;
    if (entry.expiresAt !== 0) this.expiring++;
    if (entry.seq < this.minSeq) this.minSeq = entry.seq;
    if (entry.seq > this.maxSeq) this.maxSeq = entry.seq;
    this.keyBytes += entry.key.length;
    this.valueBytes += rawValueBytes;
    if (this.block.estimatedBytes < this.blockBytes) return undefined;
    const { chunk, handle } = this.sealDataBlock();
    this.pending = { lastKey: this.lastKey, size: handle.size };
    return chunk;
  }

  /**
   * Ends the file: the last data block (if any entries are unwritten), the index block, the
   * filter block, the properties block and the footer, as one chunk to append.
   */
  finish(): Uint8Array {
    if (this.finished) throw new KvError('KV_INTERNAL', 'sorted segment already finished');
    this.finished = true;
    const chunks: Uint8Array[] = [];
    if (this.block.count > 0) {
      const { chunk, handle } = this.sealDataBlock();
      chunks.push(chunk);
      this.pending = { lastKey: this.lastKey!, size: handle.size };
    }
    // The last block's fence post is its last key: no key after it can be in the file.
    if (this.pending) this.index.add(this.pending.lastKey, this.pending.size);
    // Point-entry files compress nothing: recovery and the writer read them without a codec.
    const compressor = this.options.pointEntries ? undefined : this.options.compressor;
    const index = this.seal(sealBlock(this.index.finish(), compressor), chunks);
    const filter = this.seal(sealBlock(this.filter.finish()), chunks);
    const properties = this.seal(
      sealBlock(
        encodeProperties({
          entries: this.entries,
          tombstones: this.tombstones,
          expiring: this.expiring,
          minSeq: this.entries > 0 ? this.minSeq : 0,
          maxSeq: this.maxSeq,
          keyBytes: this.keyBytes,
          valueBytes: this.valueBytes,
          dataBlocks: this.dataBlocks,
          // Point layout: the codec of its compressed values, if any.
          compression: this.options.pointEntries
            ? this.valueCodec
            : (compressor?.type ?? COMPRESSION_NONE),
          firstKey: this.firstKey ?? new Uint8Array(0),
          lastKey: this.lastKey ?? new Uint8Array(0),
          // Point-entry files only: key runs keep the shorter layout.
          ...(this.options.pointEntries
            ? {
                logSeq: Math.max(this.options.logSeq ?? 0, this.maxSeq),
                entryBytes: this.entryBytes,
              }
            : {}),
        }),
      ),
      chunks,
    );
    const { segmentId, first, last } = this.options;
    const pointEntries = this.options.pointEntries ?? false;
    const compressedValues = this.compressedValues > 0;
    chunks.push(
      encodeFooter({
        index,
        filter,
        properties,
        segmentId,
        first,
        last,
        pointEntries,
        compressedValues,
      }),
    );
    this.written += chunks[chunks.length - 1]!.length;
    return Buffer.concat(chunks);
  }

  /** A put whose value compresses (point layout, with a compressor): its compressed value. */
  private withCompressedValue(entry: SortedEntry): SortedEntry {
    const compressor = this.options.compressor;
    if (compressor === undefined || entry.type !== TYPE_PUT || entry.compressedValue) return entry;
    const packed = compressValue(compressor, entry.value);
    if (packed === undefined) return entry;
    return { ...entry, value: packed, compressedValue: true };
  }

  private sealDataBlock(): { chunk: Uint8Array; handle: BlockHandle } {
    const compressor = this.options.pointEntries ? undefined : this.options.compressor;
    const chunk = sealBlock(this.block.finish(), compressor);
    this.dataBlocks++;
    const handle = { offset: this.written, size: chunk.length - BLOCK_TRAILER_BYTES };
    this.written += chunk.length;
    return { chunk, handle };
  }

  /** Accounts the sealed block `chunk` as written next and returns its handle. */
  private seal(chunk: Uint8Array, chunks: Uint8Array[]): BlockHandle {
    const handle = { offset: this.written, size: chunk.length - BLOCK_TRAILER_BYTES };
    this.written += chunk.length;
    chunks.push(chunk);
    return handle;
  }

  private check(entry: SortedEntry): void {
    const fail = (why: string): never => {
      throw new KvError('KV_INTERNAL', `sorted segment writer: ${why}`);
    };
    if (this.finished) fail('add after finish');
    if (this.lastKey && compareKeys(entry.key, this.lastKey) <= 0) {
      fail('keys must be added in strictly increasing order');
    }
    if (entry.type !== TYPE_PUT && entry.type !== TYPE_DELETE) fail('type must be put or delete');
    if (!Number.isSafeInteger(entry.seq) || entry.seq < 0) fail('seq must be in 0..2^53-1');
    if (!Number.isSafeInteger(entry.expiresAt) || entry.expiresAt < 0) {
      fail('expiresAt must be in 0..2^53-1');
    }
    if (entry.type === TYPE_DELETE && (entry.value.length !== 0 || entry.expiresAt !== 0)) {
      fail('a delete has no value and no expiry');
    }
    if (entry.key.length > MAX_U32 || entry.value.length > MAX_U32) fail('key or value too long');
    if (entry.compressedValue && (entry.type !== TYPE_PUT || !this.options.pointEntries)) {
      fail('only a point entry put holds a compressed value');
    }
  }
}
