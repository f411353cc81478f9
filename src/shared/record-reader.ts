// Owns the read path shared by every thread: probe the shared index for a key, look at the
// candidate record where it lies (in a memory map, or in a pread scratch buffer:
// segment-fds.ts), verify its key bytes and CRC, and copy out what the caller needs. getSync on
// the caller's thread, the reader pool's getMany/has and the writer's reads all run this code.

import { Buffer } from 'node:buffer';
import type { IndexTable } from './index-table.js';
import { type KeyInput, KeyScratch } from './key-bytes.js';
import { eachHashedAhead, KEY_GROUP } from './key-groups.js';
import { LocatedRecords } from './located-records.js';
import { decompressValue } from './point-value.js';
import { checksumMismatch, countedDamage, withPlace } from './record-damage.js';
import { type ReadMode, SegmentFds } from './segment-fds.js';
import { StoredRecord } from './stored-record.js';

/** Where a found record landed in the destination buffer. */
export interface ReadHit {
  /** Offset of the value's first byte in the destination buffer. */
  readonly valueStart: number;
  readonly valueLength: number;
  /** Total bytes of the record written into the destination. */
  readonly recordLength: number;
  /** The record's expiry (ms since the epoch), 0 = none. */
  readonly expiresAt: number;
}

/** A key's live value with its version (the sequence number of its record) and expiry. */
export interface Entry {
  readonly value: Buffer;
  /** The sequence number of the key's current record: it changes with every write of the key. */
  readonly version: number;
  /** Expiry in ms since the epoch, 0 = none. */
  readonly expiresAt: number;
}

/** Called with the key of a lookup that found the key's current record expired. */
export type ExpiredListener = (key: KeyInput) => void;

/** A sink for a record: returns a buffer with at least `length` free bytes at the given offset. */
export type Destination = (length: number) => { buffer: Uint8Array; at: number };

/** A Buffer over `bytes`' memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** One thread's reader: its own fds and maps, the shared index. Not shareable across threads. */
export class RecordReader {
  private readonly fds: SegmentFds;
  /** Reads of records at known locations (snapshots, key listings), on this reader's fds. */
  readonly located: LocatedRecords;
  // The lookup in progress, kept in fields so the hot path allocates no closures. After a hit,
  // `found` holds the record from `foundAt` (a map or the scratch buffer): valid only until
  // this thread's next read, so every caller copies out of it at once.
  private key: KeyInput = '';
  /** A single lookup's key, hashed and held as bytes (KeyScratch). */
  private readonly keyScratch = new KeyScratch();
  /** The keys `hashAhead` hashed last, by place in their group. */
  private readonly groupScratch: KeyScratch[] = Array.from(
    { length: KEY_GROUP },
    () => new KeyScratch(),
  );
  /** The scratch holding the key of the lookup in progress: `keyScratch` or a group's. */
  private keyInUse: KeyScratch = this.keyScratch;
  private found: Uint8Array | undefined;
  private foundAt = 0;
  private foundLength = 0;
  private foundValueStart = 0;
  private foundValueLength = 0;
  /** Whether the found value is stored compressed (then `copyValue` decompresses it). */
  private foundCompressed = false;
  /** The value `findValue` found last, decompressed, if it was stored compressed. */
  private inflated: Buffer | undefined;
  /** Where the found record lies, for an error about its value. */
  private foundHandle = 0;
  private foundOffset = 0;
  private foundSeq = 0;
  private foundExpiresAt = 0;
  /** The record being looked at, decoded (a log record or a data segment's point entry). */
  private readonly record = new StoredRecord();
  /** The tags `hashAhead` computed, by place in its group. */
  private readonly groupTags = new Uint32Array(KEY_GROUP);
  /** The warmed key chars and slot words XORed together, kept so no compiler drops the loads. */
  private warmed = 0;
  /** Whether the lookup in progress takes an expired record as found (reaping needs it). */
  private includeExpired = false;
  private readonly check = (handle: number, offset: number, length: number): boolean =>
    this.checkCandidate(handle, offset, length);

  /**
   * `readMode` 'mmap' reads through memory maps (needs the native addon), 'pread' with pread.
   * `onExpired` hears each key a lookup found expired (the store then has it reaped).
   */
  constructor(
    dir: string,
    private readonly index: IndexTable,
    readMode: ReadMode = 'pread',
    private readonly onExpired?: ExpiredListener,
  ) {
    this.fds = new SegmentFds(dir, index, readMode);
    this.located = new LocatedRecords(this.fds, index);
  }

  /**
   * Reads the value stored for `key` into a new Buffer (one allocation, one copy). Returns
   * undefined if absent or expired. `ahead` is the key's place in the group `hashAhead` hashed
   * last, if it was hashed there (`eachHashedAhead` passes it); the key must be that one.
   * Throws `KV_CORRUPTION` if the record fails its checksum, `KV_IO` on a read error.
   */
  get(key: KeyInput, ahead?: number): Buffer | undefined {
    return this.lookup(key, ahead) ? this.copyValue() : undefined;
  }

  /**
   * `get` without a copy: returns the length of the value stored for `key`, or -1 if absent or
   * expired. Until this thread's next read, `copyFoundValue` copies the value where the caller
   * wants it (the daemon's GET writes it straight into its reply). Throws like `get`.
   */
  findValue(key: KeyInput, ahead?: number): number {
    this.inflated = undefined;
    if (!this.lookup(key, ahead)) return -1;
    if (!this.foundCompressed) return this.foundValueLength;
    this.inflated = this.copyValue();
    return this.inflated.length;
  }

  /** Copies the value the last `findValue` found into `out` at `at` (room is the caller's). */
  copyFoundValue(out: Uint8Array, at: number): void {
    const inflated = this.inflated;
    if (inflated !== undefined) {
      out.set(inflated, at);
      return;
    }
    const start = this.foundValueStart;
    out.set(this.found!.subarray(start, start + this.foundValueLength), at);
  }

  /**
   * Brings `keys[from, from + KEY_GROUP)` into cache, hashes them (keeping each one's tag and
   * bytes by its place in the group, `i - from`), then brings their index slots into cache.
   * Valid until the next call: pass each place to `get`, `has` or `read` with its key. Cheaper
   * per key than single lookups (see `KEY_GROUP`).
   */
  hashAhead(keys: readonly KeyInput[], from: number): void {
    // The first and third loops are short, and their loads do not depend on each other, so the
    // CPU overlaps their misses: the keys' own memory (an application's old key strings are
    // scattered over the heap, often a ConsString and its flat copy), then the index slots.
    const tags = this.groupTags;
    const index = this.index;
    const to = Math.min(keys.length, from + KEY_GROUP);
    let warmed = this.warmed;
    for (let i = from; i < to; i++) {
      const key = keys[i]!;
      warmed ^= typeof key === 'string' ? key.charCodeAt(key.length - 1) : (key[0] ?? 0);
    }
    const scratch = this.groupScratch;
    for (let i = from; i < to; i++)
      tags[i - from] = index.tagOfHash(scratch[i - from]!.hash(keys[i]!));
    for (let i = from; i < to; i++) warmed ^= index.warmHomeSlot(tags[i - from]!);
    this.warmed = warmed;
  }

  /** `get` of each key, in order, hashed a group ahead (`hashAhead`). Throws like `get`. */
  getMany(keys: readonly KeyInput[]): (Buffer | undefined)[] {
    const values: (Buffer | undefined)[] = new Array(keys.length);
    eachHashedAhead(this, keys, (i, ahead) => {
      values[i] = this.get(keys[i]!, ahead);
    });
    return values;
  }

  /** Like `get`, with the record's expiry (ms since the epoch, 0 = none). */
  getWithExpiry(key: KeyInput): { value: Buffer; expiresAt: number } | undefined {
    return this.lookup(key)
      ? { value: this.copyValue(), expiresAt: this.foundExpiresAt }
      : undefined;
  }

  /** The key's live value with its version and expiry, or undefined (one consistent read). */
  entry(key: KeyInput): Entry | undefined {
    if (!this.lookup(key)) return undefined;
    return { value: this.copyValue(), version: this.foundSeq, expiresAt: this.foundExpiresAt };
  }

  /** The version (record sequence number) of the key's live value, or undefined. */
  version(key: KeyInput): number | undefined {
    return this.lookup(key) ? this.foundSeq : undefined;
  }

  /**
   * The version and expiry of the key's current record even if it has expired (for reaping),
   * or undefined if the index has no record for the key.
   */
  currentRecord(key: KeyInput): { version: number; expiresAt: number } | undefined {
    this.includeExpired = true;
    try {
      if (!this.lookup(key)) return undefined;
      return { version: this.foundSeq, expiresAt: this.foundExpiresAt };
    } finally {
      this.includeExpired = false;
    }
  }

  /** Whether `key` has a live value (its record is read and checked like `get`'s). */
  has(key: KeyInput, ahead?: number): boolean {
    return this.lookup(key, ahead);
  }

  /**
   * Looks `key` up and copies its whole record into the buffer `destination` provides. Returns
   * where the value lies, or undefined if the key is absent or expired. Not reentrant.
   */
  read(key: KeyInput, destination: Destination, ahead?: number): ReadHit | undefined {
    if (!this.lookup(key, ahead)) return undefined;
    if (this.foundCompressed) {
      // A compressed value goes out decompressed, alone: the record's bytes would not hold it.
      const value = this.copyValue();
      const { buffer, at } = destination(value.length);
      buffer.set(value, at);
      const valueLength = value.length;
      return {
        valueStart: at,
        valueLength,
        recordLength: valueLength,
        expiresAt: this.foundExpiresAt,
      };
    }
    const length = this.foundLength;
    const { buffer, at } = destination(length);
    buffer.set(this.found!.subarray(this.foundAt, this.foundAt + length), at);
    return {
      valueStart: at + this.foundValueStart - this.foundAt,
      valueLength: this.foundValueLength,
      recordLength: length,
      expiresAt: this.foundExpiresAt,
    };
  }

  /**
   * The key's current record with its version and expiry even if it has expired (nothing is
   * reaped), or undefined if the index has none: what a snapshot judges by its own clock.
   */
  currentEntry(key: KeyInput): Entry | undefined {
    this.includeExpired = true;
    try {
      if (!this.lookup(key)) return undefined;
      return { value: this.copyValue(), version: this.foundSeq, expiresAt: this.foundExpiresAt };
    } finally {
      this.includeExpired = false;
    }
  }

  /** Unmaps and closes the fds of segments compaction has retired (their space is then freed). */
  sweep(): void {
    this.fds.sweep();
  }

  /** Unmaps and closes this thread's fds. */
  close(): void {
    this.fds.closeAll();
  }

  /**
   * Probes the index for `key`; on a live hit, leaves the record in `found`. The stripe read
   * lock is held from the probe until the record's bytes have been looked at, so the writer
   * cannot retire the segment under us (and this thread unmaps a retired segment only in its
   * own later calls, after the caller has copied what it needs). `ahead` is the key's place in
   * the group `hashAhead` hashed last, if it was hashed there; it is hashed here otherwise.
   */
  private lookup(key: KeyInput, ahead?: number): boolean {
    const index = this.index;
    let tag: number;
    if (ahead === undefined) {
      this.keyInUse = this.keyScratch;
      tag = index.tagOfHash(this.keyScratch.hash(key));
    } else {
      this.keyInUse = this.groupScratch[ahead]!;
      tag = this.groupTags[ahead]!;
    }
    this.key = key;
    this.found = undefined;
    index.beginRead(tag);
    try {
      index.find(tag, this.check);
    } catch (error) {
      throw countedDamage(this.index, error);
    } finally {
      index.endRead(tag);
    }
    return this.found !== undefined;
  }

  private copyValue(): Buffer {
    const start = this.foundValueStart;
    const length = this.foundValueLength;
    if (this.foundCompressed) {
      try {
        return asBuffer(decompressValue(this.found!, start, length));
      } catch (error) {
        throw countedDamage(
          this.index,
          withPlace(error, this.fds.nameOf(this.foundHandle), this.foundOffset),
        );
      }
    }
    const value = Buffer.allocUnsafe(length);
    value.set(this.found!.subarray(start, start + length));
    return value;
  }

  private checkCandidate(handle: number, offset: number, length: number): boolean {
    const bytes = this.fds.view(handle, offset, length);
    const at = this.fds.viewAt;
    const sorted = this.index.segments.isSorted(handle);
    const r = this.record;
    const decoded = r.decode(bytes, at, length, sorted);
    const keyMatches = decoded && this.keyInUse.equals(bytes, r.keyStart, r.keyLength, this.key);
    // The CRC is checked even when the key differs: a hash collision has a good CRC, a damaged
    // key (or key length) does not, and must not make the key look absent.
    if (!decoded || !StoredRecord.checksumOk(bytes, at, length, sorted, this.fds.viewMapId)) {
      throw checksumMismatch(this.fds.nameOf(handle), offset);
    }
    if (!keyMatches) return false;
    const expiresAt = r.expiresAt;
    if (expiresAt !== 0 && expiresAt <= Date.now() && !this.includeExpired) {
      this.onExpired?.(this.key);
      return true; // found, but expired: absent
    }
    this.found = bytes;
    this.foundAt = at;
    this.foundLength = length;
    this.foundValueStart = r.valueStart;
    this.foundValueLength = r.valueLength;
    this.foundCompressed = r.compressed;
    this.foundHandle = handle;
    this.foundOffset = offset;
    this.foundSeq = r.seq;
    this.foundExpiresAt = expiresAt;
    return true;
  }
}
