// Owns a growable byte buffer that the sorted-segment encoders append to: bytes, varints and
// little-endian fixed-width integers, with the used part handed out as a copy or a view.

import { varintLength, writeVarint } from './varint.js';

/** An append-only byte buffer that doubles as it fills. Not shared across threads. */
export class ByteBuilder {
  private buf: Uint8Array;
  private used = 0;

  constructor(initialBytes = 4096) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
  }

  /** Bytes appended since construction or the last `reset`. */
  get length(): number {
    return this.used;
  }

  /** A view of the bytes appended so far; valid until the next append or `reset`. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }

  /** A copy of the bytes appended so far, owned by the caller. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.used);
  }

  /** Forgets the bytes appended (keeps the memory). */
  reset(): void {
    this.used = 0;
  }

  /**
   * Appends `n` bytes for the caller to fill: returns the underlying array and the offset of
   * the first, valid until the next append or `reset`.
   */
  reserve(n: number): { bytes: Uint8Array; at: number } {
    this.ensure(n);
    const at = this.used;
    this.used += n;
    return { bytes: this.buf, at };
  }

  /** Appends one byte (0..255). */
  byte(value: number): void {
    this.ensure(1);
    this.buf[this.used++] = value;
  }

  /** Appends `src[start, end)`. */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.used);
    this.used += end - start;
  }

  /** Appends the varint of `value` (an integer in 0..2^53-1; see varint.ts). */
  varint(value: number): void {
    this.ensure(varintLength(value));
    this.used = writeVarint(this.buf, this.used, value);
  }

  /** Appends `value` as a little-endian u16. */
  u16(value: number): void {
    this.ensure(2);
    this.buf[this.used++] = value & 0xff;
    this.buf[this.used++] = (value >>> 8) & 0xff;
  }

  /** Appends `value` as a little-endian u32. */
  u32(value: number): void {
    this.ensure(4);
    this.putU32(this.used, value);
    this.used += 4;
  }

  /** Appends `value` (below 2^53) as a little-endian u64. */
  u64(value: number): void {
    this.ensure(8);
    this.putU32(this.used, value >>> 0);
    this.putU32(this.used + 4, Math.floor(value / 0x1_0000_0000));
    this.used += 8;
  }

  /** Overwrites the u32 at `at` (already appended) with `value`, little-endian. */
  putU32(at: number, value: number): void {
    const b = this.buf;
    b[at] = value & 0xff;
    b[at + 1] = (value >>> 8) & 0xff;
    b[at + 2] = (value >>> 16) & 0xff;
    b[at + 3] = (value >>> 24) & 0xff;
  }

  private ensure(extra: number): void {
    const need = this.used + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.used));
    this.buf = grown;
  }
}
