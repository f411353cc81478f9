// Owns reading client requests: an incremental RESP2 parser for multibulk (`*N\r\n$len\r\n…`) and
// inline commands, binary-safe, fed socket chunks of any size. Its limits bound the memory one
// client can make the server hold; breaking one is a protocol error (Redis's wording).

import { Buffer } from 'node:buffer';
import { splitInline } from './inline-command.js';

/**
 * The parser's limits. Defaults follow Redis (client-query-buffer-limit), except the bulk
 * limit: the server derives it from the store's key and value limits (`defaultMaxBulkBytes`).
 */
export interface RespParserLimits {
  /** Largest bulk string (one argument), in bytes. Default 16 MiB + 1 MiB (`defaultMaxBulkBytes()`). */
  readonly maxBulkBytes: number;
  /** Most arguments in one multibulk request. Default 1,048,576. */
  readonly maxMultibulkCount: number;
  /** Longest inline command, and longest `*`/`$` header line, in bytes. Default 64 KiB. */
  readonly maxInlineBytes: number;
  /** Most protocol bytes one request may take, all arguments together. Default 1 GiB. */
  readonly maxRequestBytes: number;
}

/** Room a bulk string has past the largest key or value: a value up to this much too large is read and refused by the store (`KV_VALUE_TOO_LARGE`), not as a protocol error. */
export const BULK_SLACK_BYTES = 1024 * 1024;

/**
 * The default `maxBulkBytes` for a store whose largest key and value are `maxKeyBytes` and
 * `maxValueBytes`: the larger of the two plus `BULK_SLACK_BYTES`. Every argument a command
 * can store fits, a value a little too large gets the store's clear error, and a client cannot
 * make the server buffer an argument much larger than anything it could store.
 */
export function defaultMaxBulkBytes(maxKeyBytes: number, maxValueBytes: number): number {
  return Math.max(maxKeyBytes, maxValueBytes) + BULK_SLACK_BYTES;
}

/** Default limits (for a store with the default 64 KiB keys and 16 MiB values). */
export const DEFAULT_PARSER_LIMITS: RespParserLimits = {
  maxBulkBytes: defaultMaxBulkBytes(64 * 1024, 16 * 1024 * 1024),
  maxMultibulkCount: 1024 * 1024,
  maxInlineBytes: 64 * 1024,
  maxRequestBytes: 1024 * 1024 * 1024,
};

/** Before AUTH (when a password is required) Redis allows only tiny requests; so does kvd. */
const UNAUTHENTICATED_MULTIBULK_COUNT = 10;
const UNAUTHENTICATED_BULK_BYTES = 16 * 1024;

/** Requests of at most this many arguments get an array of their exact size up front. */
const PRESIZED_ARGS = 16;

/** What `args` holds between requests (never written: a request's count replaces it). */
const NO_ARGS: Buffer[] = [];

/** Command names up to this long are kept and reused while requests repeat them (`nameAt`). */
const SHARED_NAME_BYTES = 32;

/** First capacity of the buffer a bulk string split across reads is gathered in. */
const GATHER_START_BYTES = 64 * 1024;

const EMPTY = Buffer.alloc(0);
const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MINUS = 45;
const ZERO = 48;

/**
 * A request the client got wrong. `message` is the text after `ERR Protocol error: `; the
 * connection answers with it and closes, as Redis does.
 */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
}

/**
 * Parses one connection's request stream. Main thread. `push` each chunk read from the socket,
 * then call `next` until it returns undefined (more bytes needed). Arguments are Buffers that
 * may share memory with the pushed chunks; the parser never writes to a chunk.
 *
 * Memory held is at most one unfinished request (bounded by `maxRequestBytes`) plus the last
 * chunk pushed, provided the caller parses everything it can before pushing more. A bulk
 * string split across reads is copied into one buffer as it arrives (grown by doubling, never
 * past its length, so at most twice the bytes received), and the chunks are let go at once.
 * Once a request is returned the parser keeps no reference to it; `release()` drops the rest.
 */
export class RespParser {
  /** When true, the stricter pre-AUTH limits apply (10 arguments, 16 KiB each). */
  unauthenticated = false;
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Arguments still to read in the current multibulk request (0: between requests). */
  private argsLeft = 0;
  private args: Buffer[] = NO_ARGS;
  /** Arguments of the current request read so far (`args` may be presized past it). */
  private argsRead = 0;
  /** The last command name read (a copy), handed out again while requests repeat it. */
  private lastName: Buffer = EMPTY;
  /** Protocol bytes taken by the current request so far. */
  private requestBytes = 0;
  /** Length of the bulk string being read; -1 while its `$` header is still to read. */
  private bulkLen = -1;
  /** A bulk string (with its CRLF) that did not arrive whole, gathered until it is complete. */
  private gather: Buffer | undefined;
  /** Bytes of `gather` filled so far. */
  private gathered = 0;

  constructor(private readonly limits: RespParserLimits = DEFAULT_PARSER_LIMITS) {}

  /** Adds bytes read from the socket. */
  push(chunk: Buffer): void {
    if (this.gather) chunk = this.fill(chunk);
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
  }

  /** Bytes pushed and not yet returned as part of a request. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.gathered;
  }

  /**
   * Bytes of memory the parser's input buffers keep alive: the chunk it is reading (the whole
   * allocation behind it) and the capacity of the buffer gathering a split bulk string. The
   * arguments of an unfinished request are counted by `maxRequestBytes`, not here.
   */
  get retainedBytes(): number {
    const current = this.pos < this.buf.length ? this.buf.buffer.byteLength : 0;
    return current + (this.gather?.length ?? 0);
  }

  /**
   * The buffer holding the unparsed bytes (from `unparsedAt` to its end) when no part of a
   * request has been taken from them (`argsLeft` 0 and nothing gathered), else undefined: what a
   * caller may scan for plain GETs itself (plain-gets.ts) before `next` parses the rest. Valid
   * until `push`.
   */
  get unparsed(): Buffer | undefined {
    if (this.argsLeft !== 0 || this.gather !== undefined || this.pos >= this.buf.length) {
      return undefined;
    }
    return this.buf;
  }

  /** Where the bytes `unparsed` returns start. */
  get unparsedAt(): number {
    return this.pos;
  }

  /** Marks the unparsed bytes up to `at` taken (whole requests the caller answered). */
  skipTo(at: number): void {
    this.pos = at;
  }

  /**
   * The bytes pushed and not yet parsed, when no part of a request has been taken from them
   * (empty when there are none), else undefined: what another parser can start from when the
   * client moves (thread-return.ts). Valid until `push`.
   */
  get restBetweenRequests(): Buffer | undefined {
    if (this.argsLeft !== 0 || this.gather !== undefined) return undefined;
    return this.pos >= this.buf.length ? EMPTY : this.buf.subarray(this.pos);
  }

  /** Drops every buffer and the request in progress (the client is gone). */
  release(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.gather = undefined;
    this.gathered = 0;
    this.args = NO_ARGS;
    this.argsRead = 0;
    this.argsLeft = 0;
    this.bulkLen = -1;
    this.requestBytes = 0;
  }

  /**
   * The next complete request as its arguments (the command name first), or undefined when
   * more bytes are needed. Throws `RespProtocolError`; after that the parser must be dropped.
   */
  next(): Buffer[] | undefined {
    for (;;) {
      if (this.argsLeft === 0) {
        if (this.pos >= this.buf.length) {
          this.buf = EMPTY; // let the last chunk go: nothing in it is needed any more
          this.pos = 0;
          return undefined;
        }
        if (this.buf[this.pos] !== STAR) {
          const inline = this.nextInline();
          if (inline === undefined) return undefined;
          if (inline.length > 0) return inline;
          continue;
        }
        const count = this.readHeader('mbulk count');
        if (count === undefined) return undefined;
        if (Number.isNaN(count) || count > this.limits.maxMultibulkCount) {
          throw new RespProtocolError('invalid multibulk length');
        }
        if (this.unauthenticated && count > UNAUTHENTICATED_MULTIBULK_COUNT) {
          throw new RespProtocolError('unauthenticated multibulk length');
        }
        if (count <= 0) continue; // `*0` and `*-1` are empty requests: skipped, as by Redis
        this.argsLeft = count;
        this.args = count <= PRESIZED_ARGS ? new Array<Buffer>(count) : [];
        this.argsRead = 0;
      }
      if (!this.readArguments()) return undefined;
      const request = this.args;
      this.args = NO_ARGS;
      this.requestBytes = 0;
      return request;
    }
  }

  /** Reads bulk strings until the request is complete (true) or bytes run out (false). */
  private readArguments(): boolean {
    while (this.argsLeft > 0) {
      if (this.gather) {
        if (this.gathered < this.bulkLen + 2) return false;
        this.addArgument(this.gather.subarray(0, this.bulkLen));
        this.gather = undefined;
        this.gathered = 0;
        this.bulkLen = -1;
        this.argsLeft--;
        continue;
      }
      if (this.bulkLen < 0) {
        if (this.pos < this.buf.length && this.buf[this.pos] !== DOLLAR) {
          throw new RespProtocolError(`expected '$', got '${describeByte(this.buf[this.pos]!)}'`);
        }
        const length = this.readHeader('bulk count');
        if (length === undefined) return false;
        const max = this.unauthenticated
          ? Math.min(UNAUTHENTICATED_BULK_BYTES, this.limits.maxBulkBytes)
          : this.limits.maxBulkBytes;
        if (Number.isNaN(length) || length < 0 || length > max) {
          throw new RespProtocolError(
            this.unauthenticated && length > UNAUTHENTICATED_BULK_BYTES
              ? 'unauthenticated bulk length'
              : 'invalid bulk length',
          );
        }
        this.take(length + 2);
        this.bulkLen = length;
      }
      const need = this.bulkLen + 2;
      const available = this.buf.length - this.pos;
      if (available < need) {
        // Copy what is here and what arrives into one buffer, so no socket chunk is kept.
        this.gather = Buffer.allocUnsafeSlow(
          Math.min(need, Math.max(GATHER_START_BYTES, 2 * available)),
        );
        this.gathered = this.buf.copy(this.gather, 0, this.pos);
        this.buf = EMPTY;
        this.pos = 0;
        return false;
      }
      this.addArgument(
        this.argsRead === 0
          ? this.nameAt(this.pos, this.bulkLen)
          : this.buf.subarray(this.pos, this.pos + this.bulkLen),
      );
      this.pos += need; // Like Redis, the two bytes after the data are not checked.
      this.bulkLen = -1;
      this.argsLeft--;
    }
    return true;
  }

  /**
   * The command name at `buf[start, +length)`: the last name read if it has the same bytes (a
   * pipeline mostly repeats one command), else a copy of its own that becomes the last name. A
   * copy, not a view, so it never keeps a socket chunk alive; never changed once made.
   */
  private nameAt(start: number, length: number): Buffer {
    const last = this.lastName;
    const buf = this.buf;
    if (last.length === length) {
      let i = 0;
      while (i < length && buf[start + i] === last[i]) i++;
      if (i === length) return last;
    }
    if (length > SHARED_NAME_BYTES) return buf.subarray(start, start + length);
    const name = Buffer.allocUnsafeSlow(length);
    buf.copy(name, 0, start, start + length);
    this.lastName = name;
    return name;
  }

  private addArgument(argument: Buffer): void {
    if (this.argsRead < this.args.length) this.args[this.argsRead] = argument;
    else this.args.push(argument);
    this.argsRead++;
  }

  /**
   * Reads a `*n` or `$n` header line at `pos`: the number (NaN if malformed), or undefined if
   * the line is not complete yet.
   */
  private readHeader(what: string): number | undefined {
    const cr = this.buf.indexOf(CR, this.pos);
    if (cr < 0 || cr + 1 >= this.buf.length) {
      if (this.buf.length - this.pos > this.limits.maxInlineBytes) {
        throw new RespProtocolError(`too big ${what} string`);
      }
      return undefined;
    }
    const value = parseLength(this.buf, this.pos + 1, cr);
    this.take(cr + 2 - this.pos);
    this.pos = cr + 2;
    return value;
  }

  /** The arguments of the inline command at `pos` ([] for a blank line), or undefined. */
  private nextInline(): Buffer[] | undefined {
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf < 0) {
      if (this.buf.length - this.pos > this.limits.maxInlineBytes) {
        throw new RespProtocolError('too big inline request');
      }
      return undefined;
    }
    const end = lf > this.pos && this.buf[lf - 1] === CR ? lf - 1 : lf;
    if (end - this.pos > this.limits.maxInlineBytes) {
      throw new RespProtocolError('too big inline request');
    }
    const line = this.buf.subarray(this.pos, end);
    this.pos = lf + 1;
    const args = splitInline(line);
    if (args === undefined) throw new RespProtocolError('unbalanced quotes in request');
    return args;
  }

  /**
   * Copies the front of `chunk` into the bulk string being gathered, growing its buffer by
   * doubling up to the bulk's length; returns the rest of `chunk` (bytes after the bulk).
   */
  private fill(chunk: Buffer): Buffer {
    let gather = this.gather!;
    const need = this.bulkLen + 2;
    const take = Math.min(need - this.gathered, chunk.length);
    if (this.gathered + take > gather.length) {
      const grown = Buffer.allocUnsafeSlow(
        Math.min(need, Math.max(this.gathered + take, 2 * gather.length)),
      );
      gather.copy(grown, 0, 0, this.gathered);
      gather = grown;
      this.gather = grown;
    }
    chunk.copy(gather, this.gathered, 0, take);
    this.gathered += take;
    return chunk.subarray(take);
  }

  /** Counts `bytes` against the request limit. */
  private take(bytes: number): void {
    this.requestBytes += bytes;
    if (this.requestBytes > this.limits.maxRequestBytes) {
      throw new RespProtocolError('request exceeds the query buffer limit');
    }
  }
}

/**
 * Parses `buf[start, end)` as Redis's string2ll does (optional `-`, no `+`, no leading zeros,
 * no spaces), for lengths only: NaN if malformed or beyond 15 digits (no limit is that large).
 */
function parseLength(buf: Buffer, start: number, end: number): number {
  let i = start;
  const negative = buf[i] === MINUS;
  if (negative) i++;
  const digits = end - i;
  if (digits < 1 || digits > 15) return Number.NaN;
  if (buf[i] === ZERO && (digits > 1 || negative)) return Number.NaN;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16)}`;
}
