// Owns reading one record where an index slot points, whatever file holds it: a log record
// (format.ts) in a log or merged log segment, or a point entry (point-entry-format.ts) in a data
// segment (`.sst`). Decodes its fields into one reusable object and checks its checksum, so the
// readers and the writer's publisher hold no layout knowledge of their own.

import {
  RECORD_HEADER_BYTES,
  recordChecksumOk,
  recordExpiresAt,
  recordKeyLength,
  recordSeq,
  recordType,
  TYPE_DELETE,
  TYPE_PUT,
} from './format.js';
import { decodePointEntry, PointEntryFields, pointEntryChecksumOk } from './point-entry-format.js';
import { decompressValue } from './point-value.js';

/** The fields of the record last decoded; offsets are into the bytes it was decoded from. */
export class StoredRecord {
  /** `TYPE_PUT` or `TYPE_DELETE` for a point entry; the log record's type for a log record. */
  type = 0;
  keyStart = 0;
  keyLength = 0;
  valueStart = 0;
  /** Bytes of the stored value: a compressed value's (point-value.ts) when `compressed`. */
  valueLength = 0;
  /** Whether the value is stored compressed (a data segment's point entry only). */
  compressed = false;
  seq = 0;
  expiresAt = 0;
  private readonly point = new PointEntryFields();

  /**
   * Decodes the `length` bytes at `bytes[at]`: a point entry if `sorted`, else a log record.
   * Checks only that the fields fit in `length` (not the checksum); false if they do not.
   */
  decode(bytes: Uint8Array, at: number, length: number, sorted: boolean): boolean {
    if (sorted) {
      const p = this.point;
      if (!decodePointEntry(bytes, at, at + length, p) || p.end !== at + length) return false;
      this.type = p.type;
      this.keyStart = p.keyStart;
      this.keyLength = p.keyLength;
      this.valueStart = p.valueStart;
      this.valueLength = p.valueLength;
      this.compressed = p.compressed;
      this.seq = p.seq;
      this.expiresAt = p.expiresAt;
      return true;
    }
    if (length < RECORD_HEADER_BYTES) return false;
    const keyLength = recordKeyLength(bytes, at);
    if (RECORD_HEADER_BYTES + keyLength > length) return false;
    this.type = recordType(bytes, at);
    this.keyStart = at + RECORD_HEADER_BYTES;
    this.keyLength = keyLength;
    this.valueStart = this.keyStart + keyLength;
    this.valueLength = length - RECORD_HEADER_BYTES - keyLength;
    this.compressed = false;
    this.seq = recordSeq(bytes, at);
    this.expiresAt = recordExpiresAt(bytes, at);
    return true;
  }

  /**
   * Whether the `length` bytes at `bytes[at]` carry a good checksum (point entry if `sorted`).
   * `mapId`: the id of the map `bytes` is (`SegmentFds.viewMapId`), or -1.
   */
  static checksumOk(
    bytes: Uint8Array,
    at: number,
    length: number,
    sorted: boolean,
    mapId = -1,
  ): boolean {
    return sorted
      ? pointEntryChecksumOk(bytes, at, length, mapId)
      : recordChecksumOk(bytes, at, length, mapId);
  }

  /**
   * The value of the record decoded last from `bytes`: a view of them, or, if it is stored
   * compressed, a new array. Throws `KV_CORRUPTION` (without a place: the caller names the
   * file and offset) if a compressed value does not decode.
   */
  value(bytes: Uint8Array): Uint8Array {
    const start = this.valueStart;
    if (this.compressed) return decompressValue(bytes, start, this.valueLength);
    return bytes.subarray(start, start + this.valueLength);
  }

  /** Whether the record decoded last is a put (a point entry's type, or a log put). */
  get isPut(): boolean {
    return this.type === TYPE_PUT;
  }

  /** Whether the record decoded last is a delete. */
  get isDelete(): boolean {
    return this.type === TYPE_DELETE;
  }
}
