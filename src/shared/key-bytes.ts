// Owns how a key (string or bytes) is turned into bytes, hashed and compared with the key bytes
// stored in a record. Strings are UTF-8; a string key and its UTF-8 bytes are the same key, so
// both forms hash and compare identically without encoding ASCII strings.

import { Buffer } from 'node:buffer';

/** A key or value as the API accepts it. */
export type KeyInput = string | Uint8Array;

const encoder = new TextEncoder();

/** UTF-8 bytes of a key or value (the same view when it is already bytes). */
export function toBytes(input: KeyInput): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

/** Byte length of a key or value once encoded, without encoding ASCII strings. */
export function byteLength(input: KeyInput): number {
  if (typeof input !== 'string') return input.length;
  const n = input.length;
  for (let i = 0; i < n; i++)
    if (input.charCodeAt(i) >= 0x80) return Buffer.byteLength(input, 'utf8');
  return n;
}

/** Final avalanche (MurmurHash3 fmix32) so that the low bits used for the slot are well mixed. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Names the key hash below (FNV-1a 32-bit, then fmix32) in files that persist hashes (the index
 * snapshot's tags): a file made with another hash is never loaded as if it were this one's.
 * Change it whenever `hashBytes` changes.
 */
export const KEY_HASH_ID = 1;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit hash (FNV-1a then fmix32) of `bytes[start, end)`. */
export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return fmix32(h);
}

/** 32-bit hash of a key; equal to `hashBytes` of its UTF-8 bytes. */
export function hashKey(key: KeyInput): number {
  return typeof key === 'string' ? hashScratch.hash(key) : hashBytes(key);
}

/** String keys longer than this are not copied by `KeyScratch` (they are compared in place). */
const KEY_SCRATCH_BYTES = 512;

/**
 * One thread's copy of the key it is looking up: `hashKey` and `keyEquals` with one read of a
 * string key. An application's key string is often a `ConsString`, and each `charCodeAt` on it
 * dispatches on its shape; read once into bytes, the compare is a plain byte loop (a hit's hash
 * and compare took ~48 ns this way against ~105 ns reading the string twice: ARCHITECTURE.md).
 * Not reentrant: `equals` compares with the key of the last `hash`.
 */
export class KeyScratch {
  private readonly bytes = new Uint8Array(KEY_SCRATCH_BYTES);
  /** Length of the key held in `bytes` (an ASCII string's), or -1 when none is held. */
  private held = -1;

  /**
   * `hashKey(key)` (the one hash of a string key: `hashKey` runs it too); an ASCII string key's
   * bytes are held for `equals` until the next call.
   */
  hash(key: KeyInput): number {
    this.held = -1;
    if (typeof key !== 'string') return hashBytes(key);
    const b = this.bytes;
    const n = key.length;
    let h = FNV_OFFSET;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return hashBytes(encoder.encode(key));
      if (i < KEY_SCRATCH_BYTES) b[i] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    if (n <= KEY_SCRATCH_BYTES) this.held = n;
    return fmix32(h);
  }

  /** `keyEquals(stored, at, length, key)`, where `key` is the one last given to `hash`. */
  equals(stored: Uint8Array, at: number, length: number, key: KeyInput): boolean {
    const n = this.held;
    if (n < 0) return keyEquals(stored, at, length, key);
    if (length !== n) return false;
    const b = this.bytes;
    for (let i = 0; i < n; i++) if (stored[at + i] !== b[i]) return false;
    return true;
  }
}

/** Whether `stored[at, at+length)` holds exactly the bytes of `key`. Compares in place. */
export function keyEquals(stored: Uint8Array, at: number, length: number, key: KeyInput): boolean {
  if (typeof key === 'string') {
    const n = key.length;
    // UTF-8 never takes fewer bytes than UTF-16 code units, so a shorter stored key cannot match.
    if (length < n) return false;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return keyEquals(stored, at, length, encoder.encode(key));
      if (stored[at + i] !== c) return false;
    }
    return length === n;
  }
  if (key.length !== length) return false;
  for (let i = 0; i < length; i++) if (stored[at + i] !== key[i]) return false;
  return true;
}

/**
 * The key as a latin1 string: one char per byte of its UTF-8 form, so that comparing two such
 * strings compares the keys' bytes (range scans' in-memory keys). An ASCII string is itself.
 */
export function keyToLatin1(key: KeyInput): string {
  if (typeof key === 'string') {
    if (byteLength(key) === key.length) return key;
    return Buffer.from(key, 'utf8').toString('latin1');
  }
  return Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1');
}

/** The scratch `hashKey` hashes string keys with (nothing compares with what it holds). */
const hashScratch = new KeyScratch();
