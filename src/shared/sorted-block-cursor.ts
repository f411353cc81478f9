// Walks a sorted segment's data block (FORMAT.md, "Data block"; the layout is sorted-block.ts):
// a cursor that decodes each entry in order and checks its structure as it goes (flags, lengths
// within the block, whole keys at restart points, keys strictly increasing), a seek by restart
// point, and the whole block as entries. Any thread.

import { TYPE_DELETE, TYPE_PUT } from './format.js';
import { compareKeyRanges } from './key-order.js';
import { decodePointEntry, PointEntryFields } from './point-entry-format.js';
import { decompressValue } from './point-value.js';
import type { DataBlock } from './sorted-block.js';
import {
  ENTRY_FLAG_DELETE,
  ENTRY_FLAG_EXPIRES,
  ENTRY_FLAGS_KNOWN,
  SortedDecodeFailure,
  type SortedEntry,
} from './sorted-format.js';
import { MAX_U53, readVarint32, readVarint53, type VarintCursor } from './varint.js';

const pointFields = new PointEntryFields();

/**
 * Walks a data block's entries in order, checking each: flags, lengths within the block, whole
 * keys at restart points, keys strictly increasing, seqs within 2^53. Holds the current entry
 * in fields (the key in a scratch buffer) so that walking allocates nothing.
 */
export class BlockCursor {
  /** The current key is `key[0, keyLength)`; the buffer is reused (and may be replaced) by `next`. */
  key = new Uint8Array(64);
  /** Bytes of the current key. */
  keyLength = 0;
  /** The current entry's type. */
  type: typeof TYPE_PUT | typeof TYPE_DELETE = TYPE_PUT;
  /** The current value is `block.raw[valueStart, valueStart + valueLength)`. */
  valueStart = 0;
  /** Bytes of the current value (0 for a delete): a compressed value's, when `compressed`. */
  valueLength = 0;
  /** Whether the current value is stored compressed (point-value.ts; point entries only). */
  compressed = false;
  /** The current entry's sequence number. */
  seq = 0;
  /** The current entry's expiry in ms since the epoch, 0 = none. */
  expiresAt = 0;
  /**
   * Whether each point entry's key is copied into `key` and checked to come after the one
   * before. A caller that checks the order itself clears it (sorted-file-cursor.ts compares the
   * latin1 strings it makes of every key anyway): its point entries' keys are then only at
   * `block.raw[keyStart, keyStart + keyLength)`, and `key` and `compareTo` do not follow them.
   */
  checkPointOrder = true;
  /** Where the current point entry's key starts in `block.raw`. */
  keyStart = 0;
  private readonly at: VarintCursor = { pos: 0 };
  private nextRestart = 0;
  /** Whether `key` holds the entry before the next one (false at a `reset`). */
  private hasPrevious = false;

  constructor(readonly block: DataBlock) {}

  /** Moves before the entry of restart point `r` (0 = the block's start). */
  reset(r = 0): void {
    this.at.pos = this.block.restarts[r]!;
    this.nextRestart = r;
    this.keyLength = 0;
    this.hasPrevious = false;
  }

  /** Whether entries are left to read. */
  get more(): boolean {
    return this.at.pos < this.block.entriesEnd;
  }

  /** Reads the next entry into the fields; returns a failure if the bytes do not hold. */
  next(): SortedDecodeFailure | undefined {
    if (this.block.pointEntries) return this.nextPoint();
    const { raw, entriesEnd, restarts, offset } = this.block;
    const at = this.at;
    const start = at.pos;
    const isRestart = start === restarts[this.nextRestart];
    if (isRestart) this.nextRestart++;
    const flags = raw[at.pos++]!;
    const isDelete = (flags & ENTRY_FLAG_DELETE) !== 0;
    const shared = readVarint32(raw, at, entriesEnd);
    const unshared = readVarint32(raw, at, entriesEnd);
    const valueLength = isDelete ? 0 : readVarint32(raw, at, entriesEnd);
    const delta = readVarint53(raw, at, entriesEnd);
    const expiresAt = flags & ENTRY_FLAG_EXPIRES ? readVarint53(raw, at, entriesEnd) : 0;
    if (
      typeof shared === 'string' ||
      typeof unshared === 'string' ||
      typeof valueLength === 'string' ||
      typeof delta === 'string' ||
      typeof expiresAt === 'string'
    ) {
      return new SortedDecodeFailure('bad-varint', offset, 'data');
    }
    const keyStart = at.pos;
    const end = keyStart + unshared + valueLength;
    const seq = this.block.baseSeq + delta;
    const nextRestart = restarts[this.nextRestart];
    if (
      (flags & ~ENTRY_FLAGS_KNOWN) !== 0 ||
      (isRestart ? shared !== 0 : shared > this.keyLength || !this.hasPrevious) ||
      end > entriesEnd ||
      (nextRestart !== undefined && nextRestart < end) ||
      seq > MAX_U53 ||
      ((flags & ENTRY_FLAG_EXPIRES) !== 0 && (expiresAt === 0 || isDelete))
    ) {
      return new SortedDecodeFailure('bad-block', offset, 'data');
    }
    // Strictly after the previous key: the two share their first `shared` bytes, so the new
    // suffix decides against the rest of the previous key.
    if (
      this.hasPrevious &&
      compareKeyRanges(raw, keyStart, keyStart + unshared, this.key, shared, this.keyLength) <= 0
    ) {
      return new SortedDecodeFailure('out-of-order', offset, 'data');
    }
    this.setKey(shared, raw, keyStart, unshared);
    this.hasPrevious = true;
    this.entryStart = start;
    this.type = isDelete ? TYPE_DELETE : TYPE_PUT;
    this.valueStart = keyStart + unshared;
    this.valueLength = valueLength;
    this.compressed = false;
    this.seq = seq;
    this.expiresAt = expiresAt;
    at.pos = end;
    return undefined;
  }

  /** Where the current entry starts in the raw block (point layout: its checksum). */
  entryStart = 0;

  /**
   * `next` for point entries: each holds its whole key (its own checksum is not checked here:
   * the block's CRC, checked when the block was opened, covers it).
   */
  private nextPoint(): SortedDecodeFailure | undefined {
    const { raw, entriesEnd, restarts, offset } = this.block;
    const at = this.at;
    const start = at.pos;
    if (start === restarts[this.nextRestart]) this.nextRestart++;
    const f = pointFields;
    if (!decodePointEntry(raw, start, entriesEnd, f)) {
      return new SortedDecodeFailure('bad-block', offset, 'data');
    }
    const nextRestart = restarts[this.nextRestart];
    if (nextRestart !== undefined && nextRestart < f.end) {
      return new SortedDecodeFailure('bad-block', offset, 'data');
    }
    if (this.checkPointOrder) {
      if (
        this.hasPrevious &&
        compareKeyRanges(raw, f.keyStart, f.keyStart + f.keyLength, this.key, 0, this.keyLength) <=
          0
      ) {
        return new SortedDecodeFailure('out-of-order', offset, 'data');
      }
      this.setKey(0, raw, f.keyStart, f.keyLength);
    } else this.keyLength = f.keyLength;
    this.keyStart = f.keyStart;
    this.hasPrevious = true;
    this.entryStart = start;
    this.type = f.type;
    this.valueStart = f.valueStart;
    this.valueLength = f.valueLength;
    this.compressed = f.compressed;
    this.seq = f.seq;
    this.expiresAt = f.expiresAt;
    at.pos = f.end;
    return undefined;
  }

  /** Compares the current key with `key` (bytewise, as `compareKeys`). */
  compareTo(key: Uint8Array): number {
    return compareKeyRanges(this.key, 0, this.keyLength, key, 0, key.length);
  }

  /**
   * The current entry as a `SortedEntry`: the key copied, the value a view of the block (or,
   * stored compressed, decompressed), or `bad-compression` if a compressed value does not
   * decode. Throws only a missing codec's `KV_INVALID_ARGUMENT`.
   */
  entry(): SortedEntry | SortedDecodeFailure {
    const { raw, offset } = this.block;
    let value = raw.subarray(this.valueStart, this.valueStart + this.valueLength);
    if (this.compressed) {
      try {
        value = decompressValue(raw, this.valueStart, this.valueLength);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'KV_CORRUPTION') throw error;
        return new SortedDecodeFailure('bad-compression', offset + this.entryStart, 'data');
      }
    }
    return {
      key: this.key.slice(0, this.keyLength),
      type: this.type,
      value,
      seq: this.seq,
      expiresAt: this.expiresAt,
    };
  }

  private setKey(shared: number, src: Uint8Array, start: number, length: number): void {
    const need = shared + length;
    if (need > this.key.length) {
      const grown = new Uint8Array(Math.max(need, this.key.length * 2));
      grown.set(this.key.subarray(0, shared));
      this.key = grown;
    }
    // A loop, not `set(src.subarray(..))`: keys are short, and a view per entry is garbage.
    const key = this.key;
    for (let i = 0; i < length; i++) key[shared + i] = src[start + i]!;
    this.keyLength = need;
  }
}

/**
 * Moves `cursor` to the first entry whose key is `key` or after it, by binary search over the
 * restart points and then a walk. Returns true if there is one (the cursor holds it), false if
 * every key of the block sorts before `key`, or a failure.
 */
export function seekInBlock(cursor: BlockCursor, key: Uint8Array): boolean | SortedDecodeFailure {
  let lo = 0;
  let hi = cursor.block.restarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    cursor.reset(mid);
    const failure = cursor.next();
    if (failure) return failure;
    if (cursor.compareTo(key) < 0) lo = mid;
    else hi = mid - 1;
  }
  cursor.reset(lo);
  while (cursor.more) {
    const failure = cursor.next();
    if (failure) return failure;
    if (cursor.compareTo(key) >= 0) return true;
  }
  return false;
}

/** Every entry of `block` in key order, checked as `BlockCursor.next` checks them. */
export function readBlockEntries(block: DataBlock): SortedEntry[] | SortedDecodeFailure {
  const cursor = new BlockCursor(block);
  const entries: SortedEntry[] = [];
  while (cursor.more) {
    const failure = cursor.next();
    if (failure) return failure;
    const entry = cursor.entry();
    if (entry instanceof SortedDecodeFailure) return entry;
    entries.push(entry);
  }
  return entries;
}
