// Owns RESP encoding: turns `RespValue`s into bytes (RESP2, or RESP3 after HELLO 3), written
// straight into a slab of memory every connection shares, so a batch of replies costs no string
// and no buffer of its own; the connection hands the bytes to its socket once per batch.

import { Buffer } from 'node:buffer';
import type { RespValue } from './resp-value.js';

/** The RESP version a client speaks: 2 (default) or 3 (after `HELLO 3`). */
export type RespProtocol = 2 | 3;

/**
 * Bulk values at least this long are handed to the socket as they are (no copy); shorter ones
 * are copied, with the surrounding reply bytes, into the slab.
 */
const ZERO_COPY_BYTES = 16 * 1024;

/** Size of each slab replies are encoded into. */
const SLAB_BYTES = 64 * 1024;

/**
 * The slab every writer encodes into. Bytes before `used` belong to the sockets they were
 * handed to (a socket may hold them until the kernel takes them), so they are never written
 * again: a full slab is replaced by a fresh one, and the old one is freed once no socket holds
 * a piece of it. One per thread (module state): the main thread's, and each network thread's.
 */
const shared = { slab: Buffer.allocUnsafeSlow(SLAB_BYTES), used: 0 };

const CRLF = 0x0a0d; // "\r\n" as a little-endian u16
const NULL_BULK_HEAD = 0x0d312d24; // "$-1\r" as a little-endian u32
const PROTOCOL_BYTES = 24; // room for a type byte, a number's digits and CRLF
/** Simple strings and errors up to this long are copied char by char when ASCII (`+OK`, …). */
const SHORT_LINE_CHARS = 64;

/** What `bulkFrom` copies a value from (RecordReader: the value its last lookup found). */
export interface BulkSource {
  /** Copies the value into `out` at `at`. */
  copyFoundValue(out: Uint8Array, at: number): void;
}

/**
 * Encodes replies for one connection, on the thread that serves it. The buffers returned by `take` belong to the
 * caller (the socket) and are never written again; bulk values of at least 16 KiB are referenced,
 * not copied, so their owner must not change them afterwards (Store values are never reused).
 */
export class RespWriter {
  /** Pieces ready for `take`: slab ranges and large values, in order. */
  private parts: Buffer[] = [];
  /** The slab range being filled for this writer: [pieceStart, shared.used) of `pieceSlab`. */
  private pieceSlab: Buffer | undefined;
  private pieceStart = 0;
  private pieceEnd = 0;

  /** Appends `value`, encoded for `protocol`. */
  write(value: RespValue, protocol: RespProtocol): void {
    switch (value.kind) {
      case 'simple':
        this.line(0x2b, value.text);
        return;
      case 'error':
        this.line(0x2d, value.text, value.bytes ? 'latin1' : 'utf8');
        return;
      case 'integer':
        if (typeof value.value === 'number') this.header(0x3a, value.value);
        else this.line(0x3a, value.value.toString());
        return;
      case 'bulk':
        if (typeof value.value === 'string') this.bulkText(value.value);
        else this.bulkBytes(value.value);
        return;
      case 'null':
        if (protocol === 3) this.ascii('_\r\n');
        else this.ascii('$-1\r\n');
        return;
      case 'null-array':
        if (protocol === 3) this.ascii('_\r\n');
        else this.ascii('*-1\r\n');
        return;
      case 'array':
        this.header(0x2a, value.items.length);
        for (const item of value.items) this.write(item, protocol);
        return;
      case 'map':
        if (protocol === 3) this.header(0x25, value.entries.length);
        else this.header(0x2a, value.entries.length * 2);
        for (const [k, v] of value.entries) {
          this.write(k, protocol);
          this.write(v, protocol);
        }
        return;
      case 'double': {
        const text = formatDouble(value.value);
        if (protocol === 3) this.line(0x2c, text);
        else this.bulkText(text);
        return;
      }
      case 'boolean':
        if (protocol === 3) this.ascii(value.value ? '#t\r\n' : '#f\r\n');
        else this.ascii(value.value ? ':1\r\n' : ':0\r\n');
        return;
      case 'set':
        this.header(protocol === 3 ? 0x7e : 0x2a, value.items.length);
        for (const item of value.items) this.write(item, protocol);
        return;
      case 'push':
        this.header(protocol === 3 ? 0x3e : 0x2a, value.items.length);
        for (const item of value.items) this.write(item, protocol);
        return;
      case 'sequence':
        for (const item of value.items) this.write(item, protocol);
        return;
      case 'none':
        return;
    }
  }

  /**
   * Appends a bulk string of `length` bytes that `source` copies into the slab itself (a GET's
   * value goes from the segment's map into the reply with no Buffer of its own).
   */
  bulkFrom(length: number, source: BulkSource): void {
    this.header(0x24, length);
    if (length >= ZERO_COPY_BYTES) {
      // A buffer of its own, as `bulkBytes` hands a large value over: the slab stays small.
      const value = Buffer.allocUnsafeSlow(length);
      source.copyFoundValue(value, 0);
      this.endPiece();
      this.parts.push(value);
      this.ascii('\r\n');
      return;
    }
    const at = this.reserve(length + 2);
    const slab = shared.slab;
    source.copyFoundValue(slab, at);
    slab.writeUInt16LE(CRLF, at + length);
    this.advance(at + length + 2);
  }

  /** Appends a null bulk string: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(protocol: RespProtocol): void {
    if (protocol === 3) {
      const at = this.reserve(3);
      shared.slab[at] = 0x5f; // '_'
      shared.slab.writeUInt16LE(CRLF, at + 1);
      this.advance(at + 3);
      return;
    }
    const at = this.reserve(5);
    shared.slab.writeUInt32LE(NULL_BULK_HEAD, at);
    shared.slab[at + 4] = 0x0a;
    this.advance(at + 5);
  }

  /** Whether nothing has been written since the last `take`. */
  get isEmpty(): boolean {
    return this.parts.length === 0 && this.pieceSlab === undefined;
  }

  /**
   * Everything written since the last call, as few buffers as possible: one range of the slab
   * for each run of small replies, large bulk values apart (uncopied). Empties the writer.
   */
  take(): Buffer[] {
    this.endPiece();
    const parts = this.parts;
    this.parts = [];
    return parts;
  }

  /** `type`, `text` (UTF-8, or raw bytes as latin1; CR and LF become spaces) and CRLF. */
  private line(type: number, text: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    if (text.length <= SHORT_LINE_CHARS && this.shortAsciiLine(type, text)) return;
    text = oneLine(text);
    const at = this.reserve(Buffer.byteLength(text, encoding) + 3);
    const slab = shared.slab;
    slab[at] = type;
    const end = at + 1 + slab.write(text, at + 1, encoding);
    slab.writeUInt16LE(CRLF, end);
    this.advance(end + 2);
  }

  /**
   * `line` for a short text, copied char by char (no native call): returns false, having
   * written nothing, if `text` is not ASCII.
   */
  private shortAsciiLine(type: number, text: string): boolean {
    const n = text.length;
    const at = this.reserve(n + 3);
    const slab = shared.slab;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) return false;
      slab[at + 1 + i] = c === 0x0d || c === 0x0a ? 0x20 : c;
    }
    slab[at] = type;
    slab.writeUInt16LE(CRLF, at + 1 + n);
    this.advance(at + n + 3);
    return true;
  }

  /** Protocol text known to be ASCII (`$-1\r\n`, `_\r\n`, …). */
  private ascii(text: string): void {
    const at = this.reserve(text.length);
    this.advance(at + shared.slab.write(text, at, 'latin1'));
  }

  /** `type`, the integer `n` in decimal, CRLF. */
  private header(type: number, n: number): void {
    if (!Number.isSafeInteger(n)) {
      this.line(type, String(n));
      return;
    }
    const at = this.reserve(PROTOCOL_BYTES);
    const slab = shared.slab;
    slab[at] = type;
    const end = writeDecimal(slab, at + 1, n);
    slab.writeUInt16LE(CRLF, end);
    this.advance(end + 2);
  }

  private bulkText(text: string): void {
    const length = Buffer.byteLength(text);
    this.header(0x24, length);
    const at = this.reserve(length + 2);
    const slab = shared.slab;
    slab.write(text, at, 'utf8');
    slab.writeUInt16LE(CRLF, at + length);
    this.advance(at + length + 2);
  }

  private bulkBytes(value: Uint8Array): void {
    this.header(0x24, value.length);
    if (value.length >= ZERO_COPY_BYTES) {
      this.endPiece();
      this.parts.push(
        Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length),
      );
      this.ascii('\r\n');
      return;
    }
    const at = this.reserve(value.length + 2);
    const slab = shared.slab;
    slab.set(value, at);
    slab.writeUInt16LE(CRLF, at + value.length);
    this.advance(at + value.length + 2);
  }

  /**
   * Makes room for `bytes` more in the slab, after this writer's piece when it can (another
   * writer may have written since), and returns where to write them.
   */
  private reserve(bytes: number): number {
    if (shared.used + bytes > shared.slab.length) {
      this.endPiece();
      shared.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
      shared.used = 0;
    }
    if (this.pieceSlab !== shared.slab || this.pieceEnd !== shared.used) {
      this.endPiece();
      this.pieceSlab = shared.slab;
      this.pieceStart = shared.used;
    }
    return shared.used;
  }

  /** Marks the slab written up to `end` (by this writer). */
  private advance(end: number): void {
    shared.used = end;
    this.pieceEnd = end;
  }

  /** Moves the piece being filled, if any, to `parts`. */
  private endPiece(): void {
    if (this.pieceSlab === undefined) return;
    if (this.pieceEnd > this.pieceStart) {
      this.parts.push(this.pieceSlab.subarray(this.pieceStart, this.pieceEnd));
    }
    this.pieceSlab = undefined;
  }
}

/** Writes `n` (a safe integer) in decimal at `at`; returns the offset after it. */
function writeDecimal(buf: Buffer, at: number, n: number): number {
  if (n < 0) {
    buf[at++] = 0x2d;
    n = -n;
  }
  if (n < 10) {
    buf[at] = 0x30 + n;
    return at + 1;
  }
  let digits = 0;
  for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + digits;
}

/** Simple strings and errors cannot hold CR or LF: Redis replaces them with spaces too. */
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
}

function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  return String(value);
}
