// The one definition of a sorted segment's data block (FORMAT.md, "Data block"): entries in key
// order with shared key prefixes (or point entries, point-entry-format.ts), restart points every
// N entries, sequence numbers as varint deltas from the block's base; the builder, and the
// parse of a block's tail. The cursor that walks and checks its entries is sorted-block-cursor.ts.

import { ByteBuilder } from './byte-builder.js';
import { TYPE_DELETE, TYPE_PUT } from './format.js';
import { sharedPrefixLength } from './key-order.js';
import { pointEntryLength, writePointEntry } from './point-entry-format.js';
import {
  ENTRY_FLAG_DELETE,
  ENTRY_FLAG_EXPIRES,
  SortedDecodeFailure,
  type SortedEntry,
} from './sorted-format.js';
import { MAX_U53, varintLength } from './varint.js';

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
