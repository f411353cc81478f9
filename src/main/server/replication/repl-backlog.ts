// Owns the replication backlog: the last bytes of the master's stream (1 MiB by default, as
// Redis), so that a replica whose link broke can continue (+CONTINUE) from the offset it had.

import { Buffer } from 'node:buffer';

/** A ring of the stream's most recent bytes, addressed by replication offset. */
export class ReplBacklog {
  private readonly ring: Buffer;
  /** Offset of the byte after the last one appended. */
  private end: number;
  /** Bytes held (≤ capacity). */
  private held = 0;

  constructor(
    readonly capacity: number,
    /** The stream's offset when the backlog starts. */
    start: number,
  ) {
    this.ring = Buffer.alloc(capacity);
    this.end = start;
  }

  /** The offset of the first byte held (`end` when empty). */
  get firstOffset(): number {
    return this.end - this.held;
  }

  /** Bytes held. */
  get length(): number {
    return this.held;
  }

  /** Adds stream bytes. */
  append(bytes: Buffer): void {
    const cap = this.capacity;
    const keep = bytes.length > cap ? bytes.subarray(bytes.length - cap) : bytes;
    const at = (this.end + bytes.length - keep.length) % cap;
    const first = Math.min(keep.length, cap - at);
    keep.copy(this.ring, at, 0, first);
    if (first < keep.length) keep.copy(this.ring, 0, first);
    this.end += bytes.length;
    this.held = Math.min(cap, this.held + bytes.length);
  }

  /** The bytes from `offset` to the end, or undefined if the backlog no longer holds them. */
  from(offset: number): Buffer | undefined {
    if (offset < this.firstOffset || offset > this.end) return undefined;
    const length = this.end - offset;
    const out = Buffer.allocUnsafe(length);
    const start = offset % this.capacity;
    const first = Math.min(length, this.capacity - start);
    this.ring.copy(out, 0, start, start + first);
    if (first < length) this.ring.copy(out, first, 0, length - first);
    return out;
  }
}
