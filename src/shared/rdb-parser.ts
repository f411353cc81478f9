// Owns reading a Redis RDB file as it arrives (a replica's full resync, or a dump.rdb): bytes are
// pushed in chunks of any size, and `next()` hands out one item at a time: AUX fields, string
// keys with their expiry, and every other value type skipped by name. The checksum is checked at
// the end. Damage throws KV_CORRUPTION with the byte offset.

import { Buffer } from 'node:buffer';
import { Crc64 } from './crc64.js';
import { KvError } from './errors.js';
import { lzfDecompress } from './lzf.js';
import {
  RDB_LEN32,
  RDB_LEN64,
  RDB_MAGIC,
  RDB_MAX_READ_VERSION,
  RDB_MODULE_OPCODE,
  RDB_OPCODE,
  RDB_STRING_ENC,
  RDB_TYPE,
  rdbTypeName,
} from './rdb-format.js';

/** One thing an RDB file holds, in file order. */
export type RdbItem =
  | { readonly kind: 'aux'; readonly key: string; readonly value: Buffer }
  | { readonly kind: 'db'; readonly index: number }
  | {
      readonly kind: 'string';
      readonly db: number;
      readonly key: Buffer;
      readonly value: Buffer;
      /** Expiry in ms since the epoch; 0: none. */
      readonly expiresAt: number;
    }
  | {
      readonly kind: 'skipped';
      readonly db: number;
      readonly key: Buffer;
      /** The Redis type (`list`, `hash`, `zset`, `set`, `stream`, `module`). */
      readonly type: string;
    }
  /** The EOF opcode and the checksum: `verified`, or `absent` (a file saved without one). */
  | { readonly kind: 'end'; readonly checksum: 'verified' | 'absent' };

/** Thrown inside the parser when the bytes pushed so far end inside the current item. */
class NeedMore {
  constructor(readonly until: number) {}
}

/**
 * Reads an RDB file pushed in chunks. Loop: `push(chunk)`, then call `next()` until it returns
 * undefined (it needs more bytes). After the `end` item nothing more is read. Call `finish()` at
 * the end of the input: it throws if the file stopped before its end. Owns the chunks pushed;
 * keys and values it hands out are views of them (never written again: copy one to keep it
 * without keeping the chunk).
 */
export class RdbParser {
  private buffer: Buffer = Buffer.alloc(0);
  /** Chunks pushed since the buffer was last joined, and their bytes. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed (from the buffer's start) before the next attempt can succeed. */
  private wanted = 0;
  private pos = 0;
  /** Bytes of the file consumed before the buffer's start. */
  private base = 0;
  private version = 0;
  private db = 0;
  private ended = false;
  /** Where the item being read starts in the buffer. */
  private itemStart = 0;
  /** The checksum of every whole item read so far. */
  private readonly crc = new Crc64();

  /** Adds the next bytes of the file. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /** The next item, or undefined if the bytes pushed so far do not hold a whole one. */
  next(): RdbItem | undefined {
    if (this.ended) return undefined;
    if (this.buffer.length + this.pendingBytes < this.wanted) return undefined;
    this.join();
    const start = this.pos;
    this.itemStart = start;
    try {
      const item = this.version === 0 ? this.readHeader() : this.readItem();
      this.crc.update(this.buffer, start, this.pos);
      if (item?.kind === 'end') this.ended = true;
      this.wanted = 0;
      return item ?? this.next();
    } catch (error) {
      if (!(error instanceof NeedMore)) throw error;
      this.pos = start;
      this.wanted = error.until;
      return undefined;
    }
  }

  /** Throws KV_CORRUPTION unless the file's end has been read. */
  finish(): void {
    if (!this.ended) {
      throw this.damage(this.base + this.buffer.length + this.pendingBytes, 'the file ends early');
    }
  }

  /** Whether the end of the file (EOF and checksum) has been read. */
  get done(): boolean {
    return this.ended;
  }

  /** Bytes of the file read so far (whole items). */
  get offset(): number {
    return this.base + this.pos;
  }

  private join(): void {
    if (this.pending.length === 0 && this.pos === 0) return;
    const rest = this.buffer.subarray(this.pos);
    this.base += this.pos;
    this.wanted = Math.max(0, this.wanted - this.pos);
    this.buffer = this.pending.length === 0 ? rest : Buffer.concat([rest, ...this.pending]);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private readHeader(): RdbItem | undefined {
    const head = this.take(9);
    const version = Number(head.toString('latin1', 5));
    if (
      head.toString('latin1', 0, 5) !== RDB_MAGIC ||
      !/^\d{4}$/.test(head.toString('latin1', 5))
    ) {
      throw this.damage(this.base, 'not an RDB file (no REDIS magic and version)');
    }
    if (version < 1 || version > RDB_MAX_READ_VERSION) {
      throw this.damage(
        this.base + 5,
        `RDB version ${version} is not one kvd reads (1-${RDB_MAX_READ_VERSION})`,
      );
    }
    this.version = version;
    return undefined;
  }

  private readItem(): RdbItem | undefined {
    let expiresAt = 0;
    for (;;) {
      const at = this.pos;
      const type = this.byte();
      switch (type) {
        case RDB_OPCODE.EOF:
          return this.readEnd();
        case RDB_OPCODE.SELECTDB:
          this.db = this.length();
          return { kind: 'db', index: this.db };
        case RDB_OPCODE.RESIZEDB:
          this.length();
          this.length();
          return undefined;
        case RDB_OPCODE.AUX: {
          const key = this.string().toString('utf8');
          return { kind: 'aux', key, value: this.string() };
        }
        case RDB_OPCODE.EXPIRETIME_MS:
          expiresAt = Number(this.take(8).readBigUInt64LE(0));
          continue;
        case RDB_OPCODE.EXPIRETIME:
          expiresAt = this.take(4).readUInt32LE(0) * 1000;
          continue;
        case RDB_OPCODE.IDLE:
          this.length();
          continue;
        case RDB_OPCODE.FREQ:
          this.take(1);
          continue;
        case RDB_OPCODE.MODULE_AUX:
          this.length(); // module id
          this.length(); // when opcode
          this.length(); // when
          this.skipModuleValue();
          return undefined;
        case RDB_OPCODE.FUNCTION2:
          this.string();
          return undefined;
        case RDB_OPCODE.FUNCTION_PRE_GA:
          throw this.damage(
            this.base + at,
            'a pre-release Redis 7.0 function (opcode 246) cannot be read',
          );
        default: {
          const key = this.string();
          if (type === RDB_TYPE.STRING) {
            return { kind: 'string', db: this.db, key, value: this.string(), expiresAt };
          }
          this.skipValue(type, at);
          return { kind: 'skipped', db: this.db, key, type: rdbTypeName(type) };
        }
      }
    }
  }

  private readEnd(): RdbItem {
    if (this.version < 5) return { kind: 'end', checksum: 'absent' };
    // The checksum covers every byte before it: the items so far and this one (EOF included).
    const sum = this.crc.copy().update(this.buffer, this.itemStart, this.pos).bytes();
    const stored = this.take(8);
    if (stored.every((b) => b === 0)) return { kind: 'end', checksum: 'absent' };
    if (!sum.equals(stored)) {
      throw this.damage(
        this.base + this.pos - 8,
        `checksum ${hex(stored)} does not match the file's ${hex(sum)}`,
      );
    }
    return { kind: 'end', checksum: 'verified' };
  }

  private skipValue(type: number, at: number): void {
    switch (type) {
      case RDB_TYPE.LIST:
      case RDB_TYPE.SET:
      case RDB_TYPE.LIST_QUICKLIST:
        for (let n = this.length(); n > 0; n--) this.string();
        return;
      case RDB_TYPE.HASH:
        for (let n = this.length(); n > 0; n--) {
          this.string();
          this.string();
        }
        return;
      case RDB_TYPE.ZSET:
        for (let n = this.length(); n > 0; n--) {
          this.string();
          const len = this.byte(); // a score as text; 253-255 are nan, +inf, -inf
          if (len < 253) this.take(len);
        }
        return;
      case RDB_TYPE.ZSET_2:
        for (let n = this.length(); n > 0; n--) {
          this.string();
          this.take(8);
        }
        return;
      case RDB_TYPE.LIST_QUICKLIST_2:
        for (let n = this.length(); n > 0; n--) {
          this.length(); // container kind
          this.string();
        }
        return;
      case RDB_TYPE.HASH_ZIPMAP:
      case RDB_TYPE.LIST_ZIPLIST:
      case RDB_TYPE.SET_INTSET:
      case RDB_TYPE.ZSET_ZIPLIST:
      case RDB_TYPE.HASH_ZIPLIST:
      case RDB_TYPE.HASH_LISTPACK:
      case RDB_TYPE.ZSET_LISTPACK:
      case RDB_TYPE.SET_LISTPACK:
        this.string();
        return;
      case RDB_TYPE.STREAM_LISTPACKS:
      case RDB_TYPE.STREAM_LISTPACKS_2:
      case RDB_TYPE.STREAM_LISTPACKS_3:
        this.skipStream(type);
        return;
      case RDB_TYPE.MODULE_2:
        this.length(); // module id
        this.skipModuleValue();
        return;
      default:
        throw this.damage(
          this.base + at,
          `value type ${type} (${rdbTypeName(type)}) cannot be skipped: its length is not known`,
        );
    }
  }

  private skipStream(type: number): void {
    for (let n = this.length(); n > 0; n--) {
      this.string(); // master entry id
      this.string(); // listpack
    }
    this.length(); // items
    this.length(); // last id: ms
    this.length(); // last id: seq
    if (type >= RDB_TYPE.STREAM_LISTPACKS_2) {
      for (let i = 0; i < 5; i++) this.length(); // first id, max deleted id, entries added
    }
    for (let groups = this.length(); groups > 0; groups--) {
      this.string(); // name
      this.length(); // last id: ms
      this.length(); // last id: seq
      if (type >= RDB_TYPE.STREAM_LISTPACKS_2) this.length(); // entries read
      for (let pel = this.length(); pel > 0; pel--) {
        this.take(16); // entry id
        this.take(8); // delivery time
        this.length(); // delivery count
      }
      for (let consumers = this.length(); consumers > 0; consumers--) {
        this.string(); // name
        this.take(8); // seen time
        if (type >= RDB_TYPE.STREAM_LISTPACKS_3) this.take(8); // active time
        for (let pel = this.length(); pel > 0; pel--) this.take(16);
      }
    }
  }

  /** A module's self-described value: opcodes and operands up to its EOF opcode. */
  private skipModuleValue(): void {
    for (;;) {
      const at = this.pos;
      const opcode = this.length();
      switch (opcode) {
        case RDB_MODULE_OPCODE.EOF:
          return;
        case RDB_MODULE_OPCODE.SINT:
        case RDB_MODULE_OPCODE.UINT:
          this.length();
          break;
        case RDB_MODULE_OPCODE.FLOAT:
          this.take(4);
          break;
        case RDB_MODULE_OPCODE.DOUBLE:
          this.take(8);
          break;
        case RDB_MODULE_OPCODE.STRING:
          this.string();
          break;
        default:
          throw this.damage(this.base + at, `unknown module opcode ${opcode}`);
      }
    }
  }

  /** An RDB string: raw, an integer, or LZF-compressed. */
  private string(): Buffer {
    const first = this.byte();
    if (first >>> 6 !== 3) return this.take(this.lengthFrom(first));
    switch (first & 0x3f) {
      case RDB_STRING_ENC.INT8:
        return Buffer.from(String(this.take(1).readInt8(0)));
      case RDB_STRING_ENC.INT16:
        return Buffer.from(String(this.take(2).readInt16LE(0)));
      case RDB_STRING_ENC.INT32:
        return Buffer.from(String(this.take(4).readInt32LE(0)));
      case RDB_STRING_ENC.LZF: {
        const at = this.pos;
        const compressed = this.length();
        const length = this.length();
        const block = this.take(compressed);
        try {
          return lzfDecompress(block, length);
        } catch (error) {
          throw this.damage(this.base + at, (error as Error).message);
        }
      }
      default:
        throw this.damage(this.base + this.pos - 1, `unknown string encoding ${first & 0x3f}`);
    }
  }

  private length(): number {
    const first = this.byte();
    if (first >>> 6 === 3)
      throw this.damage(this.base + this.pos - 1, 'an encoded value where a length belongs');
    return this.lengthFrom(first);
  }

  private lengthFrom(first: number): number {
    switch (first >>> 6) {
      case 0:
        return first & 0x3f;
      case 1:
        return ((first & 0x3f) << 8) | this.byte();
      default:
        if (first === RDB_LEN32) return this.take(4).readUInt32BE(0);
        if (first === RDB_LEN64) {
          const n = this.take(8).readBigUInt64BE(0);
          if (n > BigInt(Number.MAX_SAFE_INTEGER))
            throw this.damage(this.base + this.pos - 8, 'a length over 2^53');
          return Number(n);
        }
        throw this.damage(
          this.base + this.pos - 1,
          `unknown length encoding 0x${first.toString(16)}`,
        );
    }
  }

  private byte(): number {
    if (this.pos >= this.buffer.length) throw new NeedMore(this.pos + 1);
    return this.buffer[this.pos++]!;
  }

  /** The next `n` bytes: a view of the buffer, which is never written again. */
  private take(n: number): Buffer {
    const end = this.pos + n;
    if (end > this.buffer.length) throw new NeedMore(end);
    const bytes = this.buffer.subarray(this.pos, end);
    this.pos = end;
    return bytes;
  }

  private damage(offset: number, what: string): KvError {
    return new KvError('KV_CORRUPTION', `RDB damaged at byte ${offset}: ${what}`);
  }
}

function hex(bytes: Buffer): string {
  return Buffer.from(bytes).reverse().toString('hex');
}
