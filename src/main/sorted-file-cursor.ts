// Owns the walk of one sorted file for a range scan, forward or reversed: a key run (keys only)
// or a data segment (`NNNNNN.sst`, FORMAT.md "Data segment"). Each block is read once with its
// CRC checked, its entries decoded into a table (keys as latin1 strings, whose order is byte
// order) and checked against the block's fence posts. In a data segment the scan asks the index
// whether the current entry is its key's version; if it is, the key and value are copied from
// the block in hand instead of being read again. Caller's thread.

import { Buffer } from 'node:buffer';
import { KvError } from '../shared/errors.js';
import { TYPE_PUT } from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import { decompressValue } from '../shared/point-value.js';
import { SortedDecodeFailure, sortedCorruption } from '../shared/sorted-format.js';
import type { SortedSegmentReader } from '../shared/sorted-segment-reader.js';
import { KeyEntry, ValueEntry } from './range-entry.js';
import type { Cursor } from './scan-cursors.js';
import type { RangeEntry } from './store-types.js';

/** Where an entry of a data segment lies, for the question "is this its key's version?". */
export interface EntryAt {
  /** The key is `bytes[keyStart, keyEnd)`. */
  readonly bytes: Uint8Array;
  readonly keyStart: number;
  readonly keyEnd: number;
  /** The segment's id and index handle, and the entry's file offset. */
  readonly segmentId: number;
  readonly handle: number;
  readonly offset: number;
  /** The entry's sequence number and expiry (ms since the epoch, 0 = none). */
  readonly seq: number;
  readonly expiresAt: number;
}

/**
 * Whether the entry is the version of its key the scan sees. False means "not known here": the
 * scan then reads the key through the index.
 */
export type VersionCheck = (entry: EntryAt) => boolean;

/**
 * Whether `index` points at the entry now (its tag's slot holds exactly its handle and offset,
 * and the handle still names its segment). A location names one record, so this says the entry
 * is its key's live version. Takes the stripe's read lock.
 */
export function indexPointsAt(index: IndexTable, at: EntryAt): boolean {
  const tag = index.tagOfBytes(at.bytes, at.keyStart, at.keyEnd);
  if (!index.pointsAt(tag, at.handle, at.offset)) return false;
  // Read after the slot, so a handle a newer segment has taken over is seen as taken.
  return index.segments.idOf(at.handle) === at.segmentId;
}

const EMPTY: Buffer = Buffer.alloc(0);

/** An open sorted file: its name (for errors), its reader, and whether it was closed. */
export interface SortedFile {
  readonly file: string;
  readonly reader: SortedSegmentReader;
  /** Whether it was closed (at the store's close): its bytes can no longer be read. */
  readonly closed: boolean;
}

/** A data segment's place in the index, and how the scan judges its entries. */
export interface SegmentPlace {
  readonly segmentId: number;
  readonly handle: number;
  readonly isVersion: VersionCheck;
}

/**
 * A cursor over a sorted file's entries (puts and deletes) from a start key: a data segment's
 * (given its `place`) with their values, or a key run's keys.
 */
export class SortedFileCursor implements Cursor, EntryAt {
  key: string | undefined = undefined;
  bytes: Buffer = EMPTY;
  keyStart = 0;
  keyEnd = 0;
  offset = 0;
  seq = 0;
  expiresAt = 0;
  private blockOffset = 0;
  /** The block's bytes copied for the entries handed out (made at the first). */
  private owned: Buffer | undefined = undefined;
  private block = -1;
  private count = 0;
  private i = 0;
  private readonly step: 1 | -1;
  // The current block's entries, by position in it.
  private readonly keys: string[] = [];
  private readonly starts: number[] = [];
  private readonly keyStarts: number[] = [];
  private readonly valueStarts: number[] = [];
  private readonly valueEnds: number[] = [];
  private readonly seqs: number[] = [];
  private readonly expiries: number[] = [];
  private readonly puts: boolean[] = [];
  /** Whether each entry's value is stored compressed (point-value.ts). */
  private readonly compressed: boolean[] = [];

  readonly segmentId: number;
  readonly handle: number;
  /** Whether entries carry values this cursor can hand out (a data segment's). */
  private readonly valued: boolean;
  private readonly isVersion: VersionCheck | undefined;
  /** A Buffer over the block cursor's key scratch (a key run's keys are assembled there). */
  private scratch: { key: Uint8Array; view: Buffer } = { key: EMPTY, view: EMPTY };

  constructor(
    private readonly segment: SortedFile,
    place: SegmentPlace | undefined,
    start: string | undefined,
    reverse: boolean,
  ) {
    this.segmentId = place?.segmentId ?? 0;
    this.handle = place?.handle ?? 0;
    this.isVersion = place?.isVersion;
    this.valued = place !== undefined && segment.reader.footer.pointEntries;
    this.step = reverse ? -1 : 1;
    const n = segment.reader.blockCount;
    if (n === 0) return;
    if (start === undefined) {
      this.load(reverse ? n - 1 : 0);
      this.i = reverse ? this.count - 1 : 0;
    } else {
      const b = blockFor(segment.reader, start);
      if (b === n && !reverse) return;
      this.load(Math.min(b, n - 1));
      this.i = this.position(start, reverse);
    }
    this.settle();
  }

  next(): void {
    this.i += this.step;
    this.settle();
  }

  /**
   * The current entry, its key and (with `values`) its value copied, if it is a put of a data
   * segment and the scan's `isVersion` says it is its key's version; else undefined.
   */
  entryIf(values: boolean): RangeEntry | undefined {
    if (!this.puts[this.i] || this.isVersion === undefined || !this.isVersion(this)) {
      return undefined;
    }
    // A key alone is copied alone: a caller keeping every key of a keys-only scan must not keep
    // every block.
    if (!values) return new KeyEntry(Buffer.from(this.bytes.subarray(this.keyStart, this.keyEnd)));
    // Views made with Buffer.from(arrayBuffer, …): cheaper than `subarray` (~20 ns an entry).
    const { buffer } = this.owned ?? this.own();
    const keyEnd = this.keyEnd;
    const key = Buffer.from(buffer, this.keyStart, keyEnd - this.keyStart);
    const valueEnd = this.valueEnds[this.i]!;
    if (this.compressed[this.i]) return new ValueEntry(key, this.decompressed(keyEnd, valueEnd));
    return new ValueEntry(key, Buffer.from(buffer, keyEnd, valueEnd - keyEnd));
  }

  /** The value stored compressed at `bytes[start, end)`, decompressed. Throws `KV_CORRUPTION`. */
  private decompressed(start: number, end: number): Buffer {
    let value: Uint8Array;
    try {
      value = decompressValue(this.bytes, start, end - start);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'KV_CORRUPTION') throw error;
      const failure = new SortedDecodeFailure('bad-compression', this.offset, 'data');
      throw sortedCorruption(failure, this.segment.file);
    }
    return Buffer.from(value.buffer, value.byteOffset, value.length);
  }

  /**
   * A copy of the block's bytes that the entries handed out are views of: one copy per block
   * rather than two small ones per entry (like Node's pooled small Buffers, an entry kept
   * keeps its block's copy alive). Its own ArrayBuffer, from byte 0.
   */
  private own(): Buffer {
    const owned = Buffer.allocUnsafeSlow(this.bytes.length);
    this.bytes.copy(owned);
    this.owned = owned;
    return owned;
  }

  /** First position with a key >= `start` (forward), or last with a key <= `start` (reverse). */
  private position(start: string, reverse: boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (reverse ? this.keys[mid]! <= start : this.keys[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    return reverse ? lo - 1 : lo;
  }

  /** Moves to the next block while the position is outside this one; sets the current fields. */
  private settle(): void {
    while (this.i < 0 || this.i >= this.count) {
      const b = this.block + this.step;
      if (b < 0 || b >= this.segment.reader.blockCount) {
        this.key = undefined;
        return;
      }
      this.load(b);
      this.i = this.step === 1 ? 0 : this.count - 1;
    }
    const i = this.i;
    this.key = this.keys[i];
    if (!this.valued) return;
    this.keyStart = this.keyStarts[i]!;
    this.keyEnd = this.valueStarts[i]!;
    this.offset = this.blockOffset + this.starts[i]!;
    this.seq = this.seqs[i]!;
    this.expiresAt = this.expiries[i]!;
  }

  /** Reads block `b` (its CRC checked) into the table. Throws `KV_CORRUPTION`. */
  private load(b: number): void {
    const { reader, file } = this.segment;
    if (this.segment.closed) throw new KvError('KV_CLOSED', 'the store is closed');
    const cursor = reader.blockCursor(b);
    if (cursor instanceof SortedDecodeFailure) throw sortedCorruption(cursor, file);
    const { raw, offset } = cursor.block;
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    const valued = this.valued;
    const outOfOrder = () =>
      sortedCorruption(new SortedDecodeFailure('out-of-order', offset, 'data'), file);
    // A valued cursor walks point entries and checks their order itself, on the key strings.
    cursor.checkPointOrder = !valued;
    const fences = valued ? fenceStringsOf(reader) : undefined;
    let n = 0;
    while (cursor.more) {
      const failure = cursor.next();
      if (failure) throw sortedCorruption(failure, file);
      if (valued) {
        const keyStart = cursor.keyStart;
        const key = bytes.toString('latin1', keyStart, cursor.valueStart);
        // Strictly after the one before; the first after the previous block's fence post.
        if (n > 0 ? key <= this.keys[n - 1]! : b > 0 && key <= fences![b - 1]!) throw outOfOrder();
        this.keys[n] = key;
        this.starts[n] = cursor.entryStart;
        this.keyStarts[n] = keyStart;
        this.valueStarts[n] = cursor.valueStart;
        this.valueEnds[n] = cursor.valueStart + cursor.valueLength;
        this.seqs[n] = cursor.seq;
        this.expiries[n] = cursor.expiresAt;
        this.puts[n] = cursor.type === TYPE_PUT;
        this.compressed[n] = cursor.compressed;
      } else {
        // Within the block's fence posts: after the previous block's, at or before its own.
        if (n === 0 && b > 0 && cursor.compareTo(reader.fence(b - 1)) <= 0) throw outOfOrder();
        this.keys[n] = this.scratchView(cursor.key).toString('latin1', 0, cursor.keyLength);
        this.puts[n] = false;
      }
      n++;
    }
    const last = b === reader.blockCount - 1;
    if (n === 0) throw outOfOrder();
    if (fences) {
      const lastKey = this.keys[n - 1]!;
      if (last ? lastKey !== fences[b] : lastKey > fences[b]!) throw outOfOrder();
    } else {
      const fence = reader.fence(b);
      if (last ? cursor.compareTo(fence) !== 0 : cursor.compareTo(fence) > 0) throw outOfOrder();
    }
    this.bytes = bytes;
    this.owned = undefined;
    this.blockOffset = offset;
    this.block = b;
    this.count = n;
  }

  /** A Buffer over `key` (the block cursor's scratch), made again only when it is replaced. */
  private scratchView(key: Uint8Array): Buffer {
    if (this.scratch.key !== key) {
      this.scratch = { key, view: Buffer.from(key.buffer, key.byteOffset, key.length) };
    }
    return this.scratch.view;
  }
}

/** Each open file's fence posts as latin1 strings, made at its first scan. */
const fenceStrings = new WeakMap<SortedSegmentReader, readonly string[]>();

/** `reader`'s fence posts as latin1 strings (whose order is byte order). */
function fenceStringsOf(reader: SortedSegmentReader): readonly string[] {
  let fences = fenceStrings.get(reader);
  if (fences === undefined) {
    const made: string[] = [];
    for (let i = 0; i < reader.blockCount; i++) {
      const f = reader.fence(i);
      made.push(Buffer.from(f.buffer, f.byteOffset, f.length).toString('latin1'));
    }
    fenceStrings.set(reader, made);
    fences = made;
  }
  return fences;
}

/**
 * `reader.blockFor` of a latin1 key: a binary search over the fence posts as strings, which
 * compare faster than byte arrays scattered over the heap.
 */
function blockFor(reader: SortedSegmentReader, key: string): number {
  const fences = fenceStringsOf(reader);
  let lo = 0;
  let hi = fences.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fences[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
