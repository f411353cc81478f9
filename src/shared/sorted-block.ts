// The one definition of a sorted segment's data block (FORMAT.md, "Data block"): entries in key
// order with shared key prefixes, restart points every N entries, sequence numbers as varint
// deltas from the block's base; a builder, and a cursor that checks the structure as it walks.

import { ByteBuilder } from './byte-builder.js';
import { TYPE_DELETE, TYPE_PUT } from './format.js';
import { compareKeyRanges, sharedPrefixLength } from './key-order.js';
import {
  decodePointEntry,
  PointEntryFields,
  pointEntryLength,
  writePointEntry,
} from './point-entry-format.js';
import { decompressValue } from './point-value.js';
import {
  ENTRY_FLAG_DELETE,
  ENTRY_FLAG_EXPIRES,
  ENTRY_FLAGS_KNOWN,
  SortedDecodeFailure,
  type SortedEntry,
} from './sorted-format.js';
import { MAX_U53, readVarint32, readVarint53, type VarintCursor, varintLength } from './varint.js';

/** A staged put whose value is a compressed value field (point layout): its `types` entry. */
const STAGED_COMPRESSED_PUT = 0x81;

/** Entries between restart points (a restart entry stores its whole key). */
export const DEFAULT_RESTART_INTERVAL = 16;
/** Bytes of a block's tail besides its restart offsets: u64 base seq, u32 restart count. */
const TAIL_FIXED_BYTES = 8 + 4;

/**
 * Collects the entries of one data block, in strictly increasing key order (the segment writer
 * checks the order), and encodes them. Copies keys and values as they are added.
 */
export class DataBlockBuilder {
  private readonly staged = new ByteBuilder();
  private readonly out = new ByteBuilder();
  private keyStarts: number[] = [];
  private keyLengths: number[] = [];
  private valueLengths: number[] = [];
  private types: number[] = [];
  private seqs: number[] = [];
  private expiries: number[] = [];
  private estimate = TAIL_FIXED_BYTES;
  /** Point layout: bytes of the entries added so far (where the next one starts). */
  private pointBytes = 0;

  /**
   * `pointEntries`: write point entries (point-entry-format.ts: whole keys, absolute seqs, one
   * checksum each) instead of prefix-shared ones; restarts still mark every
   * `restartInterval`-th entry, for seeks.
   */
  constructor(
    private readonly restartInterval = DEFAULT_RESTART_INTERVAL,
    private readonly pointEntries = false,
  ) {}

  /** Entries added since the last `finish`. */
  get count(): number {
    return this.seqs.length;
  }

  /** An upper bound of the bytes `finish` would return now. */
  get estimatedBytes(): number {
    return this.estimate;
  }

  /**
   * Adds `entry`, whose key sorts after the previous one's. Returns, in the point layout, the
   * entry's offset in the raw block (its length is `pointEntryLength`); else 0.
   */
  add(entry: SortedEntry): number {
    const n = this.seqs.length;
    const isPut = entry.type === TYPE_PUT;
    this.stage(entry, isPut);
    if (this.pointEntries) {
      const at = this.pointBytes;
      const length = pointEntryLength(
        entry.key.length,
        entry.value.length,
        !isPut,
        entry.seq,
        entry.expiresAt,
      );
      this.pointBytes += length;
      this.estimate += length + (n % this.restartInterval === 0 ? 4 : 0);
      return at;
    }
    const shared =
      n % this.restartInterval === 0 ? 0 : sharedPrefixLength(this.keyAt(n - 1), entry.key);
    this.estimate +=
      1 +
      varintLength(shared) +
      varintLength(entry.key.length - shared) +
      (isPut ? varintLength(entry.value.length) + entry.value.length : 0) +
      varintLength(entry.seq) +
      (entry.expiresAt !== 0 ? varintLength(entry.expiresAt) : 0) +
      entry.key.length -
      shared +
      (n % this.restartInterval === 0 ? 4 : 0);
    return 0;
  }

  private stage(entry: SortedEntry, isPut: boolean): void {
    this.keyStarts.push(this.staged.length);
    this.keyLengths.push(entry.key.length);
    this.staged.bytes(entry.key);
    this.valueLengths.push(isPut ? entry.value.length : 0);
    if (isPut) this.staged.bytes(entry.value);
    this.types.push(entry.compressedValue && isPut ? STAGED_COMPRESSED_PUT : entry.type);
    this.seqs.push(entry.seq);
    this.expiries.push(entry.expiresAt);
  }

  /**
   * The block's raw bytes: entries, then u64 base seq (the least seq in the block), then u32
   * offsets of the restart entries, then u32 restart count. Resets the builder; the returned
   * view is valid until the next `finish`.
   */
  finish(): Uint8Array {
    const out = this.out;
    out.reset();
    let base = MAX_U53;
    for (const seq of this.seqs) if (seq < base) base = seq;
    // Point entries carry absolute seqs: the base is 0.
    if (this.pointEntries) base = 0;
    const restarts: number[] = [];
    const view = this.staged.view();
    for (let i = 0; i < this.seqs.length; i++) {
      const keyStart = this.keyStarts[i]!;
      const key = view.subarray(keyStart, keyStart + this.keyLengths[i]!);
      if (this.pointEntries) {
        if (i % this.restartInterval === 0) restarts.push(out.length);
        const valueStart = keyStart + key.length;
        const value = view.subarray(valueStart, valueStart + this.valueLengths[i]!);
        const type = this.types[i] === TYPE_DELETE ? TYPE_DELETE : TYPE_PUT;
        const length = pointEntryLength(
          key.length,
          value.length,
          type === TYPE_DELETE,
          this.seqs[i]!,
          this.expiries[i]!,
        );
        const slot = out.reserve(length);
        const compressed = this.types[i] === STAGED_COMPRESSED_PUT;
        const seq = this.seqs[i]!;
        writePointEntry(slot.bytes, slot.at, type, key, value, seq, this.expiries[i]!, compressed);
        continue;
      }
      let shared = 0;
      if (i % this.restartInterval === 0) restarts.push(out.length);
      else shared = sharedPrefixLength(this.keyAt(i - 1), key);
      const isDelete = this.types[i] === TYPE_DELETE;
      const expires = this.expiries[i]!;
      out.byte((isDelete ? ENTRY_FLAG_DELETE : 0) | (expires !== 0 ? ENTRY_FLAG_EXPIRES : 0));
      out.varint(shared);
      out.varint(key.length - shared);
      if (!isDelete) out.varint(this.valueLengths[i]!);
      out.varint(this.seqs[i]! - base);
      if (expires !== 0) out.varint(expires);
      out.bytes(key, shared);
      const valueStart = keyStart + key.length;
      out.bytes(view, valueStart, valueStart + this.valueLengths[i]!);
    }
    out.u64(this.seqs.length > 0 ? base : 0);
    for (const r of restarts) out.u32(r);
    out.u32(restarts.length);
    this.staged.reset();
    this.keyStarts = [];
    this.keyLengths = [];
    this.valueLengths = [];
    this.types = [];
    this.seqs = [];
    this.expiries = [];
    this.estimate = TAIL_FIXED_BYTES;
    this.pointBytes = 0;
    return out.view();
  }

  private keyAt(i: number): Uint8Array {
    const start = this.keyStarts[i]!;
    return this.staged.view().subarray(start, start + this.keyLengths[i]!);
  }
}

/** A data block's raw bytes with its tail parsed: where entries end, base seq, restarts. */
export interface DataBlock {
  readonly raw: Uint8Array;
  /** File offset of the block, for failures. */
  readonly offset: number;
  readonly entriesEnd: number;
  readonly baseSeq: number;
  /** Offsets (in `raw`) of the restart entries, strictly increasing from 0. */
  readonly restarts: readonly number[];
  /** Whether its entries are point entries (point-entry-format.ts) rather than prefix-shared. */
  readonly pointEntries: boolean;
}

/**
 * Parses the tail of the raw data block `raw` (from file offset `offset`) and checks it;
 * `pointEntries` says which entry layout the file's footer declares.
 */
export function parseDataBlock(
  raw: Uint8Array,
  offset: number,
  pointEntries = false,
): DataBlock | SortedDecodeFailure {
  const bad = new SortedDecodeFailure('bad-block', offset, 'data');
  if (raw.length < TAIL_FIXED_BYTES + 4) return bad;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const count = v.getUint32(raw.length - 4, true);
  const restartsAt = raw.length - 4 - 4 * count;
  const entriesEnd = restartsAt - 8;
  if (count === 0 || entriesEnd <= 0) return bad;
  const high = v.getUint32(entriesEnd + 4, true);
  if (high >= 0x20_0000) return bad;
  const baseSeq = high * 0x1_0000_0000 + v.getUint32(entriesEnd, true);
  if (pointEntries && baseSeq !== 0) return bad;
  const restarts: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = v.getUint32(restartsAt + 4 * i, true);
    if (i === 0 ? r !== 0 : r <= restarts[i - 1]! || r >= entriesEnd) return bad;
    restarts.push(r);
  }
  return { raw, offset, entriesEnd, baseSeq, restarts, pointEntries };
}

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
