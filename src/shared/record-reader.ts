// Owns the read path shared by every thread: probe the shared index for a key, pread the
// candidate record, verify its key bytes and CRC, and hand back the value. getSync on the
// caller's thread and the reader pool's getMany/has both run this code.

import { readSync } from 'node:fs';
import { KvError } from './errors.js';
import {
  RECORD_HEADER_BYTES,
  recordChecksumOk,
  recordExpiresAt,
  recordKeyLength,
} from './format.js';
import type { IndexTable } from './index-table.js';
import { type KeyInput, keyEquals } from './key-bytes.js';
import { SegmentFds } from './segment-fds.js';

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

/** A sink for a record: returns a buffer with at least `length` free bytes at the given offset. */
export type Destination = (length: number) => { buffer: Uint8Array; at: number };

/** One thread's reader: its own fds, the shared index. Not shareable across threads. */
export class RecordReader {
  private readonly fds: SegmentFds;
  // State of the lookup in progress, kept in fields so the hot path allocates no closures.
  private key: KeyInput = '';
  private destination: Destination = () => ({ buffer: new Uint8Array(0), at: 0 });
  private hit: ReadHit | undefined;
  private readonly check = (handle: number, offset: number, length: number): boolean =>
    this.checkCandidate(handle, offset, length);
  // getSync's destination: a new Buffer per candidate, so the value needs no copy.
  private record: Buffer | undefined;
  private readonly intoNewBuffer: Destination = (length) => {
    this.record = Buffer.allocUnsafe(length);
    return { buffer: this.record, at: 0 };
  };

  constructor(
    dir: string,
    private readonly index: IndexTable,
  ) {
    this.fds = new SegmentFds(dir, index);
  }

  /**
   * Reads the value stored for `key` into a new Buffer (one allocation: the value is a view of
   * the record read from disk). Returns undefined if absent or expired.
   * Throws `KV_CORRUPTION` if the record fails its checksum, `KV_IO` on a read error.
   */
  get(key: KeyInput): Buffer | undefined {
    const hit = this.read(key, this.intoNewBuffer);
    const record = this.record;
    this.record = undefined;
    return hit && record
      ? record.subarray(hit.valueStart, hit.valueStart + hit.valueLength)
      : undefined;
  }

  /** Like `get`, with the record's expiry (ms since the epoch, 0 = none). */
  getWithExpiry(key: KeyInput): { value: Buffer; expiresAt: number } | undefined {
    const hit = this.read(key, this.intoNewBuffer);
    const record = this.record;
    this.record = undefined;
    return hit && record
      ? {
          value: record.subarray(hit.valueStart, hit.valueStart + hit.valueLength),
          expiresAt: hit.expiresAt,
        }
      : undefined;
  }

  /**
   * Looks `key` up and reads its whole record into the buffer `destination` provides. Returns
   * where the value lies, or undefined if the key is absent or expired. The stripe read lock
   * is held from the probe until the pread returns, so the writer cannot retire the segment
   * under us. Not reentrant (one lookup at a time per reader).
   */
  read(key: KeyInput, destination: Destination): ReadHit | undefined {
    const index = this.index;
    const tag = index.tagOfKey(key);
    this.key = key;
    this.destination = destination;
    this.hit = undefined;
    index.beginRead(tag);
    try {
      index.find(tag, this.check);
    } finally {
      index.endRead(tag);
    }
    return this.hit;
  }

  /**
   * The key of the put record at a known location, or undefined if it has expired. Reads the
   * whole record and checks its CRC: throws `KV_CORRUPTION`, `KV_IO`.
   */
  keyAt(
    handle: number,
    offset: number,
    length: number,
    includeExpired = false,
  ): Uint8Array | undefined {
    const buffer = new Uint8Array(length);
    this.preadFully(handle, buffer, 0, length, offset);
    if (!recordChecksumOk(buffer, 0, length)) {
      throw new KvError(
        'KV_CORRUPTION',
        `checksum mismatch in ${this.fds.nameOf(handle)} at offset ${offset}`,
      );
    }
    const expiresAt = recordExpiresAt(buffer, 0);
    if (!includeExpired && expiresAt !== 0 && expiresAt <= Date.now()) return undefined;
    return buffer.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + recordKeyLength(buffer, 0));
  }

  /** Closes the fds of segments compaction has retired (their files' space is then freed). */
  sweep(): void {
    this.fds.sweep();
  }

  /** Closes this thread's fds. */
  close(): void {
    this.fds.closeAll();
  }

  private checkCandidate(handle: number, offset: number, length: number): boolean {
    const { buffer, at } = this.destination(length);
    this.preadFully(handle, buffer, at, length, offset);
    const keyLength = recordKeyLength(buffer, at);
    const keyMatches =
      RECORD_HEADER_BYTES + keyLength <= length &&
      keyEquals(buffer, at + RECORD_HEADER_BYTES, keyLength, this.key);
    // The CRC is checked even when the key differs: a hash collision has a good CRC, a damaged
    // key (or key length) does not, and must not make the key look absent.
    if (!recordChecksumOk(buffer, at, length)) {
      throw new KvError(
        'KV_CORRUPTION',
        `checksum mismatch in ${this.fds.nameOf(handle)} at offset ${offset}`,
      );
    }
    if (!keyMatches) return false;
    const expiresAt = recordExpiresAt(buffer, at);
    if (expiresAt !== 0 && expiresAt <= Date.now()) return true; // found, but expired: absent
    const valueStart = at + RECORD_HEADER_BYTES + keyLength;
    this.hit = {
      valueStart,
      valueLength: length - RECORD_HEADER_BYTES - keyLength,
      recordLength: length,
      expiresAt,
    };
    return true;
  }

  private preadFully(
    handle: number,
    buffer: Uint8Array,
    at: number,
    length: number,
    offset: number,
  ): void {
    const fd = this.fds.fdFor(handle);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(fd, buffer, at + done, length - done, offset + done);
      } catch (error) {
        throw new KvError('KV_IO', `read of ${this.fds.nameOf(handle)} failed: ${String(error)}`);
      }
      if (n === 0) {
        throw new KvError(
          'KV_CORRUPTION',
          `${this.fds.nameOf(handle)} ends before the record at offset ${offset} (${length} bytes)`,
        );
      }
      done += n;
    }
  }
}
