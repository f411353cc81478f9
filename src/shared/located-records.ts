// Owns reading a record at a known location (segment handle, offset, length) rather than by
// key: the whole record, its CRC checked, then its key, value, version or expiry copied out.
// Snapshots read old versions this way, and key listings, the expiry cycle and batched reads
// read the keys the index's locations point at. One per RecordReader, on its fds and maps.

import { Buffer } from 'node:buffer';
import type { IndexTable } from './index-table.js';
import { checksumMismatch, countedDamage, withPlace } from './record-damage.js';
import type { Entry } from './record-reader.js';
import type { SegmentFds } from './segment-fds.js';
import { StoredRecord } from './stored-record.js';

/** Reads records at known locations, through one thread's fds. Not shareable across threads. */
export class LocatedRecords {
  /** The record being looked at, decoded. */
  private readonly record = new StoredRecord();

  constructor(
    private readonly fds: SegmentFds,
    private readonly index: IndexTable,
  ) {}

  /**
   * The put record at a known location (a version a snapshot needs): its key and value (copies),
   * version and expiry. Reads the whole record and checks its CRC: throws `KV_CORRUPTION`,
   * `KV_IO`.
   */
  entryAt(handle: number, offset: number, length: number): Entry & { key: Uint8Array } {
    const { bytes, record: r } = this.checkedRecord(handle, offset, length);
    let value: Uint8Array;
    try {
      value = r.value(bytes);
    } catch (error) {
      throw countedDamage(this.index, withPlace(error, this.fds.nameOf(handle), offset));
    }
    return {
      key: bytes.slice(r.keyStart, r.keyStart + r.keyLength),
      value: r.compressed
        ? Buffer.from(value.buffer, value.byteOffset, value.length)
        : Buffer.from(value),
      version: r.seq,
      expiresAt: r.expiresAt,
    };
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
    const { key, expiresAt } = this.recordAt(handle, offset, length);
    if (!includeExpired && expiresAt !== 0 && expiresAt <= Date.now()) return undefined;
    return key;
  }

  /**
   * The key (a copy) and expiry of the record at a known location, expired or not. Reads the
   * whole record and checks its CRC: throws `KV_CORRUPTION`, `KV_IO`.
   */
  recordAt(handle: number, offset: number, length: number): { key: Uint8Array; expiresAt: number } {
    const { bytes, record: r } = this.checkedRecord(handle, offset, length);
    return { key: bytes.slice(r.keyStart, r.keyStart + r.keyLength), expiresAt: r.expiresAt };
  }

  /** The whole record at a known location, decoded, its CRC checked (damage counted and thrown). */
  private checkedRecord(
    handle: number,
    offset: number,
    length: number,
  ): { bytes: Uint8Array; record: StoredRecord } {
    try {
      const bytes = this.fds.view(handle, offset, length);
      const at = this.fds.viewAt;
      const sorted = this.index.segments.isSorted(handle);
      if (
        !StoredRecord.checksumOk(bytes, at, length, sorted, this.fds.viewMapId) ||
        !this.record.decode(bytes, at, length, sorted)
      ) {
        throw checksumMismatch(this.fds.nameOf(handle), offset);
      }
      return { bytes, record: this.record };
    } catch (error) {
      throw countedDamage(this.index, error);
    }
  }
}
