// Reads a sorted segment (FORMAT.md, "Sorted segment") through a small read interface: checks
// the footer and loads the index, filter and properties at open, then serves point lookups
// (filter, fence posts, one block) and ordered walks in either direction. Every block is
// checked on every read; each failure is a typed `SortedDecodeFailure`, never a throw.

import { type BloomFilter, decodeBloomFilter } from './bloom-filter.js';
import { compareKeys } from './key-order.js';
import { type DataBlock, parseDataBlock } from './sorted-block.js';
import { BlockCursor, readBlockEntries, seekInBlock } from './sorted-block-cursor.js';
import {
  BLOCK_TRAILER_BYTES,
  type BlockDecompressor,
  type BlockHandle,
  decodeFooter,
  FOOTER_BYTES,
  openBlock,
  SortedDecodeFailure,
  type SortedEntry,
  type SortedFooter,
  type SortedRegion,
} from './sorted-format.js';
import { type BlockIndex, decodeIndex, findBlock } from './sorted-index.js';
import { decodeProperties, type SortedProperties } from './sorted-properties.js';

/** Where a sorted segment's bytes come from. */
export interface SortedSegmentSource {
  /** The file's size in bytes. */
  readonly size: number;
  /**
   * `length` bytes from `offset` (fewer only if the file ends first). The reader keeps no
   * reference past the call that asked, except in the entries it returns (their values may be
   * views of the returned bytes). May throw an I/O error, which the reader lets through.
   */
  read(offset: number, length: number): Uint8Array;
}

/** Options for `openSortedSegment`. */
export interface SortedSegmentOpenOptions {
  /** Decompresses blocks stored compressed; without it such a block is `compression-unavailable`. */
  readonly decompressor?: BlockDecompressor;
}

/** Options for `SortedSegmentReader.seek`. */
export interface SeekOptions {
  /** Walk towards smaller keys: from the greatest key at or before the seek key. */
  readonly reverse?: boolean;
}

/**
 * Opens a sorted segment: the whole file as bytes, or a source. Reads and checks the footer and
 * the properties, then the index and filter blocks (their CRCs, structure, and agreement with
 * each other and the footer). Returns the reader or why the file cannot be trusted.
 */
export function openSortedSegment(
  file: Uint8Array | SortedSegmentSource,
  options: SortedSegmentOpenOptions = {},
): SortedSegmentReader | SortedDecodeFailure {
  const source: SortedSegmentSource =
    file instanceof Uint8Array
      ? { size: file.length, read: (offset, length) => file.subarray(offset, offset + length) }
      : file;
  const head = readSortedProperties(source, options);
  if (head instanceof SortedDecodeFailure) return head;
  const { footer, properties } = head;
  const { decompressor } = options;
  const indexRaw = loadBlock(source, footer.index, 'index', decompressor);
  if (indexRaw instanceof SortedDecodeFailure) return indexRaw;
  const index = decodeIndex(indexRaw, footer.index.offset, footer.index.offset);
  if (index instanceof SortedDecodeFailure) return index;
  const filterRaw = loadBlock(source, footer.filter, 'filter', decompressor);
  if (filterRaw instanceof SortedDecodeFailure) return filterRaw;
  const filter = decodeBloomFilter(filterRaw);
  if (!filter) return new SortedDecodeFailure('bad-filter', footer.filter.offset, 'filter');
  const n = index.fences.length;
  if (
    properties.dataBlocks !== n ||
    (n > 0 &&
      (compareKeys(properties.lastKey, index.fences[n - 1]!) !== 0 ||
        compareKeys(properties.firstKey, index.fences[0]!) > 0))
  ) {
    return new SortedDecodeFailure('bad-properties', footer.properties.offset, 'properties');
  }
  return new SortedSegmentReader(source, footer, index, filter, properties, decompressor);
}

/**
 * Reads only the footer and the properties block of a sorted segment (their CRCs checked): what
 * recovery behind an index snapshot needs of a data segment, without decoding its index (one
 * fence post per block: 54 ms for 100,000 blocks at open). Everything else is checked when a
 * reader opens the file.
 */
export function readSortedProperties(
  source: SortedSegmentSource,
  options: SortedSegmentOpenOptions = {},
): { readonly footer: SortedFooter; readonly properties: SortedProperties } | SortedDecodeFailure {
  if (source.size < FOOTER_BYTES) return new SortedDecodeFailure('truncated', 0, 'footer');
  const footer = decodeFooter(source.read(source.size - FOOTER_BYTES, FOOTER_BYTES), source.size);
  if (footer instanceof SortedDecodeFailure) return footer;
  const raw = loadBlock(source, footer.properties, 'properties', options.decompressor);
  if (raw instanceof SortedDecodeFailure) return raw;
  const properties = decodeProperties(raw, footer.properties.offset);
  if (properties instanceof SortedDecodeFailure) return properties;
  return { footer, properties };
}

/** The stored block at `handle` with its CRC checked, decompressed: its raw contents. */
function loadBlock(
  source: SortedSegmentSource,
  handle: BlockHandle,
  region: SortedRegion,
  decompressor: BlockDecompressor | undefined,
): Uint8Array | SortedDecodeFailure {
  const length = handle.size + BLOCK_TRAILER_BYTES;
  const stored = source.read(handle.offset, length);
  if (stored.length !== length) return new SortedDecodeFailure('truncated', handle.offset, region);
  return openBlock(stored, handle.offset, region, decompressor);
}

/**
 * An open sorted segment. Not shared across threads (each thread opens its own). Entries it
 * returns own their keys; their values may be views of bytes the source returned.
 */
export class SortedSegmentReader {
  /** @internal Use `openSortedSegment`. */
  constructor(
    private readonly source: SortedSegmentSource,
    /** What the footer says (block handles, segment id and span). */
    readonly footer: SortedFooter,
    private readonly index: BlockIndex,
    /** The bloom filter of the segment's keys. */
    readonly filter: BloomFilter,
    /** What the properties block says (counts, seq range, first and last key). */
    readonly properties: SortedProperties,
    private readonly decompressor: BlockDecompressor | undefined,
  ) {}

  /** Data blocks in the file. */
  get blockCount(): number {
    return this.index.fences.length;
  }

  /** The fence post of data block `i`: at or after its last key, before the next block's first. */
  fence(i: number): Uint8Array {
    return this.index.fences[i]!;
  }

  /** The first data block whose fence post is at or after `key` (`blockCount` if none). */
  blockFor(key: Uint8Array): number {
    return findBlock(this.index, key);
  }

  /** Where data block `i` lies in the file (its stored payload; the trailer follows). */
  blockHandle(i: number): BlockHandle {
    return this.index.handles[i]!;
  }

  /** False only if `key` is certainly not in the segment (the bloom filter). */
  mayContain(key: Uint8Array): boolean {
    return this.filter.mayContain(key);
  }

  /**
   * The entry for `key` (a put or a delete), undefined if the segment has none, or a failure
   * if the one block that could hold it cannot be trusted. Reads at most one block.
   */
  get(key: Uint8Array): SortedEntry | undefined | SortedDecodeFailure {
    if (!this.filter.mayContain(key)) return undefined;
    const i = findBlock(this.index, key);
    if (i === this.index.fences.length) return undefined;
    const block = this.loadDataBlock(i);
    if (block instanceof SortedDecodeFailure) return block;
    const cursor = new BlockCursor(block);
    const found = seekInBlock(cursor, key);
    if (found instanceof SortedDecodeFailure) return found;
    return found && cursor.compareTo(key) === 0 ? cursor.entry() : undefined;
  }

  /**
   * Every entry of data block `i` in key order, checked against the block's fence posts (its
   * first key after the previous fence post, its last at or before its own).
   */
  readBlock(i: number): SortedEntry[] | SortedDecodeFailure {
    const block = this.loadDataBlock(i);
    if (block instanceof SortedDecodeFailure) return block;
    const entries = readBlockEntries(block);
    if (entries instanceof SortedDecodeFailure) return entries;
    const { fences } = this.index;
    const last = i === fences.length - 1;
    const lastKey = entries[entries.length - 1]!.key;
    if (
      (i > 0 && compareKeys(entries[0]!.key, fences[i - 1]!) <= 0) ||
      (last ? compareKeys(lastKey, fences[i]!) !== 0 : compareKeys(lastKey, fences[i]!) > 0)
    ) {
      return new SortedDecodeFailure('out-of-order', block.offset, 'data');
    }
    return entries;
  }

  /**
   * Walks the entries from `key` on: forward from the first key at or after it, or with
   * `reverse` backward from the last key at or before it; from the first (or last) entry when
   * `key` is undefined. Reads each block when the walk reaches it. On a failure it yields the
   * failure and ends.
   */
  *seek(
    key?: Uint8Array,
    options: SeekOptions = {},
  ): Generator<SortedEntry | SortedDecodeFailure, void, undefined> {
    const n = this.index.fences.length;
    if (n === 0) return;
    if (!options.reverse) {
      for (let i = key ? findBlock(this.index, key) : 0; i < n; i++) {
        const entries = this.readBlock(i);
        if (entries instanceof SortedDecodeFailure) return yield entries;
        for (const entry of entries) if (!key || compareKeys(entry.key, key) >= 0) yield entry;
      }
      return;
    }
    for (let i = key ? Math.min(findBlock(this.index, key), n - 1) : n - 1; i >= 0; i--) {
      const entries = this.readBlock(i);
      if (entries instanceof SortedDecodeFailure) return yield entries;
      for (let j = entries.length - 1; j >= 0; j--) {
        const entry = entries[j]!;
        if (!key || compareKeys(entry.key, key) <= 0) yield entry;
      }
    }
  }

  /**
   * Walks forward from the first key at or after `key` (from the first key if undefined)
   * without materialising entries: yields the block cursor positioned at each entry in turn
   * (read its fields before the next step), each key checked to lie within its block's fence
   * posts. On a failure it yields the failure and ends. Cheaper than `seek` for key scans.
   */
  *walkForward(key?: Uint8Array): Generator<BlockCursor | SortedDecodeFailure, void, undefined> {
    const { fences } = this.index;
    const n = fences.length;
    const start = key ? findBlock(this.index, key) : 0;
    for (let i = start; i < n; i++) {
      const block = this.loadDataBlock(i);
      if (block instanceof SortedDecodeFailure) return yield block;
      const cursor = new BlockCursor(block);
      if (key && i === start) {
        const found = seekInBlock(cursor, key);
        if (found instanceof SortedDecodeFailure) return yield found;
        if (!found) continue;
      } else {
        const failure = cursor.more
          ? cursor.next()
          : new SortedDecodeFailure('bad-block', block.offset, 'data');
        if (failure) return yield failure;
      }
      for (;;) {
        if ((i > 0 && cursor.compareTo(fences[i - 1]!) <= 0) || cursor.compareTo(fences[i]!) > 0) {
          return yield new SortedDecodeFailure('out-of-order', block.offset, 'data');
        }
        yield cursor;
        if (!cursor.more) break;
        const failure = cursor.next();
        if (failure) return yield failure;
      }
    }
  }

  /**
   * A cursor before the first entry of data block `i` (its CRC checked, its tail parsed), or
   * why the block cannot be trusted. Entries' file offsets are the block's handle offset plus
   * `cursor.entryStart` (data blocks of point entries are never compressed).
   */
  blockCursor(i: number): BlockCursor | SortedDecodeFailure {
    const block = this.loadDataBlock(i);
    if (block instanceof SortedDecodeFailure) return block;
    return new BlockCursor(block);
  }

  private loadDataBlock(i: number): DataBlock | SortedDecodeFailure {
    const handle = this.index.handles[i]!;
    const raw = loadBlock(this.source, handle, 'data', this.decompressor);
    if (raw instanceof SortedDecodeFailure) return raw;
    return parseDataBlock(raw, handle.offset, this.footer.pointEntries);
  }
}
