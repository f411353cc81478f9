// The one definition of hint files (FORMAT.md, "Hint file"): beside a sealed or merged segment,
// the effects it holds (type, key, location, sequence) without the values, so start-up reads a
// few bytes per key instead of the whole segment. Encode (a builder) and validate-and-walk.

import { crc32c } from './crc32c.js';
import { getU64, setU64 } from './data-view-u64.js';
import { TYPE_DELETE, TYPE_PUT } from './format.js';

/**
 * Magic of a hint file: the ASCII bytes "KVDH" read as a little-endian u32.
 *
 * Hint file header: magic "KVDH", u16 version, u16 reserved, u32 segment id, u32 segment size,
 * u64 max seq, u32 entries, u32 reserved.
 */
export const HINT_MAGIC = 0x4844564b;
/**
 * Hint file layout version (header bytes 4..5); bumped whenever the hint layout changes.
 * Version 2 added the expiry of puts that have one. A hint of another version is not used
 * (open scans that segment instead, and a new hint is written).
 */
export const HINT_VERSION = 2;
/** Bytes of the hint file header; the first entry starts here. */
export const HINT_HEADER_BYTES = 32;
/**
 * Per entry before the key: u8 type, u8 flags, u16 reserved, u32 keyLen, u32 offset,
 * u32 length, u64 seq. After the key, a u64 expiry if flags has `HINT_FLAG_EXPIRES`.
 */
export const HINT_ENTRY_BYTES = 24;
/** Entry flag: a u64 expiry (ms since the epoch) follows the key. */
export const HINT_FLAG_EXPIRES = 1;
const EXPIRY_BYTES = 8;
/** The file ends with the CRC32C of every byte before it. */
const TRAILER_BYTES = 4;

/** Hint file name for segment `id`. */
export function hintFileName(id: number): string {
  return `${String(id).padStart(6, '0')}.hint`;
}

/** Parses a hint file name, or returns undefined if the name is not one. */
export function parseHintFileName(name: string): number | undefined {
  const m = /^(\d{6,})\.hint$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Collects hint entries in file order and encodes the file. */
export class HintBuilder {
  private bytes = new Uint8Array(64 * 1024);
  private view = new DataView(this.bytes.buffer);
  private length = HINT_HEADER_BYTES;
  private entries = 0;
  private maxSeq = 0;

  /**
   * Adds the effect at `offset` (`length` bytes) for the key `key[keyStart, keyStart+keyLength)`;
   * `expiresAt`: a put's expiry (ms since the epoch, 0 = none).
   */
  add(
    type: typeof TYPE_PUT | typeof TYPE_DELETE,
    key: Uint8Array,
    keyStart: number,
    keyLength: number,
    offset: number,
    length: number,
    seq: number,
    expiresAt = 0,
  ): void {
    const extra = expiresAt !== 0 ? EXPIRY_BYTES : 0;
    this.ensure(HINT_ENTRY_BYTES + keyLength + extra);
    const v = this.view;
    const at = this.length;
    v.setUint8(at, type);
    v.setUint8(at + 1, extra ? HINT_FLAG_EXPIRES : 0);
    v.setUint16(at + 2, 0, true);
    v.setUint32(at + 4, keyLength, true);
    v.setUint32(at + 8, offset, true);
    v.setUint32(at + 12, length, true);
    setU64(v, at + 16, seq);
    this.bytes.set(key.subarray(keyStart, keyStart + keyLength), at + HINT_ENTRY_BYTES);
    if (extra) setU64(v, at + HINT_ENTRY_BYTES + keyLength, expiresAt);
    this.length = at + HINT_ENTRY_BYTES + keyLength + extra;
    this.entries++;
    if (seq > this.maxSeq) this.maxSeq = seq;
  }

  /** Raises the recorded max seq (records that are not effects, such as batch commits, count). */
  noteSeq(seq: number): void {
    if (seq > this.maxSeq) this.maxSeq = seq;
  }

  /** The whole hint file for segment `segmentId` of `segmentSize` bytes. */
  finish(segmentId: number, segmentSize: number): Uint8Array {
    this.ensure(TRAILER_BYTES);
    const v = this.view;
    v.setUint32(0, HINT_MAGIC, true);
    v.setUint16(4, HINT_VERSION, true);
    v.setUint16(6, 0, true);
    v.setUint32(8, segmentId, true);
    v.setUint32(12, segmentSize, true);
    setU64(v, 16, this.maxSeq);
    v.setUint32(24, this.entries, true);
    v.setUint32(28, 0, true);
    v.setUint32(this.length, crc32c(this.bytes, 0, this.length), true);
    return this.bytes.subarray(0, this.length + TRAILER_BYTES);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** Called for each entry of a hint file; the key is `bytes[keyStart, keyStart+keyLength)`. */
export type HintVisitor = (
  type: typeof TYPE_PUT | typeof TYPE_DELETE,
  bytes: Uint8Array,
  keyStart: number,
  keyLength: number,
  offset: number,
  length: number,
  seq: number,
  expiresAt: number,
) => void;

/** A validated hint file. */
export interface HintFile {
  readonly maxSeq: number;
  readonly entries: number;
  /** Visits every entry in file order. */
  forEach(visit: HintVisitor): void;
}

/** Why a hint file is not usable: a typed reason (`describeHintFailure` words it). */
export type HintFailure =
  | {
      readonly reason:
        | 'cut-short'
        | 'bad-magic'
        | 'checksum'
        | 'entries-past-end'
        | 'entries-short-of-end';
    }
  | { readonly reason: 'unsupported-version'; readonly version: number }
  | { readonly reason: 'wrong-segment'; readonly named: number }
  | { readonly reason: 'wrong-size'; readonly hintedSize: number; readonly fileSize: number }
  | { readonly reason: 'bad-entry'; readonly entry: number };

/** Whether `readHint` failed. */
export function isHintFailure(h: HintFile | HintFailure): h is HintFailure {
  return 'reason' in h;
}

/** The words for a hint failure, as logs print it. */
export function describeHintFailure(f: HintFailure): string {
  switch (f.reason) {
    case 'cut-short':
      return 'hint file is cut short';
    case 'bad-magic':
      return 'bad hint magic';
    case 'checksum':
      return 'hint checksum mismatch';
    case 'entries-past-end':
      return 'hint entries run past the end';
    case 'entries-short-of-end':
      return 'hint entries do not fill the file';
    case 'unsupported-version':
      return `unsupported hint version ${f.version}`;
    case 'wrong-segment':
      return `hint names segment ${f.named}`;
    case 'wrong-size':
      return `hint is for ${f.hintedSize} bytes of segment, the file has ${f.fileSize}`;
    case 'bad-entry':
      return `bad hint entry ${f.entry}`;
  }
}

/**
 * Validates a hint file for segment `segmentId` of `segmentSize` bytes: magic, version, CRC,
 * the segment it names and its size, and every entry's bounds. Returns the reason it is not
 * usable (typed), or the file.
 */
export function readHint(
  bytes: Uint8Array,
  segmentId: number,
  segmentSize: number,
): HintFile | HintFailure {
  if (bytes.length < HINT_HEADER_BYTES + TRAILER_BYTES) return { reason: 'cut-short' };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (v.getUint32(0, true) !== HINT_MAGIC) return { reason: 'bad-magic' };
  const body = bytes.length - TRAILER_BYTES;
  if (v.getUint32(body, true) !== crc32c(bytes, 0, body)) return { reason: 'checksum' };
  if (v.getUint16(4, true) !== HINT_VERSION)
    return { reason: 'unsupported-version', version: v.getUint16(4, true) };
  if (v.getUint32(8, true) !== segmentId)
    return { reason: 'wrong-segment', named: v.getUint32(8, true) };
  if (v.getUint32(12, true) !== segmentSize) {
    return { reason: 'wrong-size', hintedSize: v.getUint32(12, true), fileSize: segmentSize };
  }
  const entries = v.getUint32(24, true);
  let at = HINT_HEADER_BYTES;
  for (let n = 0; n < entries; n++) {
    if (at + HINT_ENTRY_BYTES > body) return { reason: 'entries-past-end' };
    const type = v.getUint8(at);
    const flags = v.getUint8(at + 1);
    const offset = v.getUint32(at + 8, true);
    const length = v.getUint32(at + 12, true);
    if (
      (type !== TYPE_PUT && type !== TYPE_DELETE) ||
      (flags & ~HINT_FLAG_EXPIRES) !== 0 ||
      v.getUint16(at + 2, true) !== 0 ||
      offset + length > segmentSize
    ) {
      return { reason: 'bad-entry', entry: n };
    }
    at += HINT_ENTRY_BYTES + v.getUint32(at + 4, true) + (flags ? EXPIRY_BYTES : 0);
  }
  if (at !== body) return { reason: 'entries-short-of-end' };
  return {
    maxSeq: getU64(v, 16),
    entries,
    forEach(visit) {
      let p = HINT_HEADER_BYTES;
      for (let n = 0; n < entries; n++) {
        const keyLength = v.getUint32(p + 4, true);
        const expires = v.getUint8(p + 1) !== 0;
        const keyEnd = p + HINT_ENTRY_BYTES + keyLength;
        visit(
          v.getUint8(p) as typeof TYPE_PUT | typeof TYPE_DELETE,
          bytes,
          p + HINT_ENTRY_BYTES,
          keyLength,
          v.getUint32(p + 8, true),
          v.getUint32(p + 12, true),
          getU64(v, p + 16),
          expires ? getU64(v, keyEnd) : 0,
        );
        p = keyEnd + (expires ? EXPIRY_BYTES : 0);
      }
    },
  };
}
