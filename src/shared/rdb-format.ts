// Owns the Redis RDB file layout kvd reads and writes for replication (FORMAT.md, "RDB"): the
// magic and version, opcodes, value types, the length and string encodings, and RdbWriter,
// which encodes a snapshot of string keys as an RDB file in pieces that can be streamed.

import { Buffer } from 'node:buffer';
import { Crc64 } from './crc64.js';

/** "REDIS", the first five bytes of every RDB file. */
export const RDB_MAGIC = 'REDIS';
/** The RDB version kvd writes: 9, which Redis 5.0 and every later Redis loads. */
export const RDB_WRITE_VERSION = 9;
/** The newest RDB version kvd reads (Redis 7.4 writes 12). */
export const RDB_MAX_READ_VERSION = 12;

/** Opcodes: a byte where a value type could stand, introducing something else. */
export const RDB_OPCODE = {
  FUNCTION2: 0xf5,
  FUNCTION_PRE_GA: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

/** Value types. kvd keeps `STRING`; the others are skipped, by name. */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
} as const;

/** The Redis type a value type holds, for logs and counters (`list`, `hash`, ...). */
export function rdbTypeName(type: number): string {
  switch (type) {
    case RDB_TYPE.STRING:
      return 'string';
    case RDB_TYPE.LIST:
    case RDB_TYPE.LIST_ZIPLIST:
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2:
      return 'list';
    case RDB_TYPE.SET:
    case RDB_TYPE.SET_INTSET:
    case RDB_TYPE.SET_LISTPACK:
      return 'set';
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2:
    case RDB_TYPE.ZSET_ZIPLIST:
    case RDB_TYPE.ZSET_LISTPACK:
      return 'zset';
    case RDB_TYPE.HASH:
    case RDB_TYPE.HASH_ZIPMAP:
    case RDB_TYPE.HASH_ZIPLIST:
    case RDB_TYPE.HASH_LISTPACK:
      return 'hash';
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_2:
    case RDB_TYPE.STREAM_LISTPACKS_3:
      return 'stream';
    case RDB_TYPE.MODULE:
    case RDB_TYPE.MODULE_2:
      return 'module';
    default:
      return `type-${type}`;
  }
}

/** Length encodings: the top two bits of a length's first byte. */
export const RDB_LEN = {
  /** 00xxxxxx: 6 bits. */
  BITS6: 0,
  /** 01xxxxxx + 1 byte: 14 bits, big-endian. */
  BITS14: 1,
  /** 10xxxxxx: 0x80 + 4 bytes or 0x81 + 8 bytes, big-endian. */
  WIDE: 2,
  /** 11xxxxxx: a specially encoded string; the low 6 bits say how (`RDB_STRING_ENC`). */
  SPECIAL: 3,
} as const;

/** The first byte of a 32-bit and of a 64-bit length. */
export const RDB_LEN32 = 0x80;
export const RDB_LEN64 = 0x81;

/** Special string encodings (the low 6 bits after 11). */
export const RDB_STRING_ENC = { INT8: 0, INT16: 1, INT32: 2, LZF: 3 } as const;

/** Module opcodes inside a self-described (MODULE_2) value or module aux field. */
export const RDB_MODULE_OPCODE = {
  EOF: 0,
  SINT: 1,
  UINT: 2,
  FLOAT: 3,
  DOUBLE: 4,
  STRING: 5,
} as const;

/** Encodes `n` (0 ≤ n < 2^53) as an RDB length. */
export function encodeRdbLength(n: number): Buffer {
  if (n < 0x40) return Buffer.of(n);
  if (n < 0x4000) return Buffer.of(0x40 | (n >>> 8), n & 0xff);
  if (n <= 0xffffffff) {
    const out = Buffer.allocUnsafe(5);
    out[0] = RDB_LEN32;
    out.writeUInt32BE(n, 1);
    return out;
  }
  const out = Buffer.allocUnsafe(9);
  out[0] = RDB_LEN64;
  out.writeBigUInt64BE(BigInt(n), 1);
  return out;
}

/** Writes `n` (0 ≤ n < 2^32) as an RDB length at `at`; returns where the next byte goes. */
function writeRdbLength(b: Buffer, at: number, n: number): number {
  if (n < 0x40) {
    b[at] = n;
    return at + 1;
  }
  if (n < 0x4000) {
    b[at] = 0x40 | (n >>> 8);
    b[at + 1] = n & 0xff;
    return at + 2;
  }
  b[at] = RDB_LEN32;
  b.writeUInt32BE(n, at + 1);
  return at + 5;
}

/** The first size of RdbWriter's buffer of keys added and not yet taken. */
const PENDING_BYTES = 64 * 1024;

/** Encodes bytes as an RDB string: its length, then the bytes (never compressed). */
export function encodeRdbString(bytes: Uint8Array): Buffer[] {
  return [encodeRdbLength(bytes.length), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)];
}

/** What RdbWriter puts in the header's AUX fields besides redis-ver, redis-bits and ctime. */
export interface RdbHeaderFields {
  /** The replication id the snapshot belongs to (40 hex characters). */
  readonly replId?: string;
  /** The replication offset the snapshot was taken at. */
  readonly replOffset?: number;
}

/**
 * Encodes an RDB file of string keys, one database (0), in pieces: `header()`, then `entry()`
 * per key, then `end()`, which appends the EOF opcode and the CRC-64 of every byte before it.
 * Each call returns the buffers to write next; the writer keeps the running checksum.
 */
export class RdbWriter {
  private readonly crc = new Crc64();
  /** Keys added and not yet taken (`add`, `take`). */
  private pending = Buffer.allocUnsafe(PENDING_BYTES);
  private used = 0;

  /** The magic, version, AUX fields and the database selector. */
  header(fields: RdbHeaderFields = {}): Buffer[] {
    const aux: [string, string][] = [
      ['redis-ver', '7.0.0'],
      ['redis-bits', '64'],
      ['ctime', String(Math.floor(Date.now() / 1000))],
      ['kvd', '1'],
    ];
    if (fields.replId !== undefined) aux.push(['repl-id', fields.replId]);
    if (fields.replOffset !== undefined) aux.push(['repl-offset', String(fields.replOffset)]);
    const pieces: Buffer[] = [
      Buffer.from(`${RDB_MAGIC}${String(RDB_WRITE_VERSION).padStart(4, '0')}`),
    ];
    for (const [key, value] of aux) {
      pieces.push(Buffer.of(RDB_OPCODE.AUX), ...encodeRdbString(Buffer.from(key)));
      pieces.push(...encodeRdbString(Buffer.from(value)));
    }
    pieces.push(Buffer.of(RDB_OPCODE.SELECTDB), encodeRdbLength(0));
    return this.sum(pieces);
  }

  /** One string key, with its expiry in ms since the epoch (0: none). */
  entry(key: Uint8Array, value: Uint8Array, expiresAt = 0): Buffer[] {
    this.add(key, value, expiresAt);
    return [this.take()];
  }

  /**
   * Appends one string key to the bytes `take()` returns next (no allocation per key: the way to
   * write many). Expiry in ms since the epoch (0: none).
   */
  add(key: Uint8Array, value: Uint8Array, expiresAt = 0): void {
    this.reserve(1 + 9 + 1 + 9 + key.length + 9 + value.length);
    const b = this.pending;
    let at = this.used;
    if (expiresAt > 0) {
      b[at] = RDB_OPCODE.EXPIRETIME_MS;
      b.writeUInt32LE(expiresAt % 0x1_0000_0000, at + 1);
      b.writeUInt32LE(Math.floor(expiresAt / 0x1_0000_0000), at + 5);
      at += 9;
    }
    b[at++] = RDB_TYPE.STRING;
    at = writeRdbLength(b, at, key.length);
    b.set(key, at);
    at += key.length;
    at = writeRdbLength(b, at, value.length);
    b.set(value, at);
    this.used = at + value.length;
  }

  /** The bytes added since the last call, counted into the checksum; the caller owns them. */
  take(): Buffer {
    const out = this.pending.subarray(0, this.used);
    this.crc.update(out);
    this.pending = Buffer.allocUnsafe(PENDING_BYTES);
    this.used = 0;
    return out;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.pending.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.pending.length * 2, this.used + bytes));
    this.pending.copy(bigger, 0, 0, this.used);
    this.pending = bigger;
  }

  /** The EOF opcode and the checksum. */
  end(): Buffer[] {
    const eof = this.sum([Buffer.of(RDB_OPCODE.EOF)]);
    return [...eof, this.crc.bytes()];
  }

  private sum(pieces: Buffer[]): Buffer[] {
    for (const piece of pieces) this.crc.update(piece);
    return pieces;
  }
}
