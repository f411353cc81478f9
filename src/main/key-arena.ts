// Owns a packed list of keys as bytes: one buffer holding the keys back to back and a table of
// their end offsets. The key memtable keeps the keys it has not had to sort yet this way, at the
// keys' own bytes plus 4 per key, where a JS string per key cost ~42 bytes more for 16-byte keys
// (bench/ANALYSIS.md, "Daemon memory"). The write queue gathers one turn's put keys in one, as it
// lays out their records. Caller's thread.

import { Buffer } from 'node:buffer';

const INITIAL_BYTES = 4096;
const INITIAL_KEYS = 256;
/**
 * Up to this many bytes a key is copied by a loop: `set` needs a view of the source made for
 * each key, whose allocation cost more (1.5% of the caller's thread under 'always' writes).
 */
const SHORT_KEY_BYTES = 64;

/** Keys as bytes, in the order added (repeats kept). */
export class KeyArena {
  private bytes: Buffer;
  private ends: Uint32Array;
  private keys = 0;
  private used = 0;

  constructor(bytes = INITIAL_BYTES, keys = INITIAL_KEYS) {
    this.bytes = Buffer.allocUnsafe(Math.max(1, bytes));
    this.ends = new Uint32Array(Math.max(1, keys));
  }

  /** An arena holding `keys`, each a latin1 string (one char per byte), as in tests. */
  static of(keys: readonly string[]): KeyArena {
    const arena = new KeyArena();
    for (const k of keys) {
      const b = Buffer.from(k, 'latin1');
      arena.push(b, 0, b.length);
    }
    return arena;
  }

  /** Keys held. */
  get count(): number {
    return this.keys;
  }

  /** Bytes of key data held. */
  get byteLength(): number {
    return this.used;
  }

  /** Adds the key `source[start, start + length)`. */
  push(source: Uint8Array, start: number, length: number): void {
    this.room(length, 1);
    const bytes = this.bytes;
    const at = this.used;
    if (length <= SHORT_KEY_BYTES) {
      for (let i = 0; i < length; i++) bytes[at + i] = source[start + i]!;
    } else bytes.set(source.subarray(start, start + length), at);
    this.used += length;
    this.ends[this.keys++] = this.used;
  }

  /** Adds every key of `other`, in order. */
  append(other: KeyArena): void {
    if (other.keys === 0) return;
    this.room(other.used, other.keys);
    this.bytes.set(other.bytes.subarray(0, other.used), this.used);
    for (let i = 0; i < other.keys; i++) this.ends[this.keys + i] = this.used + other.ends[i]!;
    this.used += other.used;
    this.keys += other.keys;
  }

  /** Forgets every key, keeping the memory for the next ones. */
  clear(): void {
    this.keys = 0;
    this.used = 0;
  }

  /** Gives back the room past what is held (for an arena that takes no more keys). */
  trim(): void {
    if (this.bytes.length > this.used) this.bytes = Buffer.from(this.bytes.subarray(0, this.used));
    if (this.ends.length > this.keys) this.ends = this.ends.slice(0, this.keys);
  }

  /** The keys as latin1 strings (string order is then byte order), in the order added. */
  toStrings(): string[] {
    const out: string[] = new Array(this.keys);
    let start = 0;
    for (let i = 0; i < this.keys; i++) {
      const end = this.ends[i]!;
      out[i] = this.bytes.toString('latin1', start, end);
      start = end;
    }
    return out;
  }

  /** Makes room for `bytes` more bytes and `keys` more keys, growing by doubling. */
  private room(bytes: number, keys: number): void {
    if (this.used + bytes > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + bytes));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    if (this.keys + keys > this.ends.length) {
      const grown = new Uint32Array(Math.max(this.ends.length * 2, this.keys + keys));
      grown.set(this.ends.subarray(0, this.keys));
      this.ends = grown;
    }
  }
}
