// Owns sorting many keys at once in compareKeys' order (key-order.ts), for the compaction
// worker's hint jobs and merges. A comparator sort calls JavaScript for each of its n·log n
// comparisons: 453k keys of a 64 MiB segment took 0.8–1.0 s on this machine. Here each key
// becomes one 64-bit word (5 bytes past the keys' common prefix, then the key's place in its
// group) and the words are sorted natively (a typed array's sort, no comparator). Keys whose 5
// bytes tie are sorted again the same way, 5 bytes further on; small groups by insertion.

import { compareKeyRanges } from './key-order.js';

/** Key bytes packed into one word; the word's low 24 bits hold the key's place in its group. */
const PACKED_BYTES = 5;
const PLACE_BITS = 24;
const PLACE_MASK = (1 << PLACE_BITS) - 1;
/** Groups up to this size are sorted by insertion. */
const SMALL_GROUP = 16;
/** A BigUint64Array's low word comes first in memory only on a little-endian machine. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Keys as columns: key `i` is `bytes[starts[i], starts[i] + lengths[i])`. */
export interface KeyColumns {
  readonly bytes: Uint8Array;
  readonly starts: ArrayLike<number>;
  readonly lengths: ArrayLike<number>;
}

/** Collects where keys lie in one byte array, in a few typed arrays (no view per key). */
export class KeyPlaces {
  private starts = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private added = 0;

  /** Keys added. */
  get count(): number {
    return this.added;
  }

  /** Adds the key at `[start, start + length)`. */
  add(start: number, length: number): void {
    if (this.added === this.starts.length) {
      this.starts = grown(this.starts, new Float64Array(this.added * 2));
      this.lengths = grown(this.lengths, new Uint32Array(this.added * 2));
    }
    this.starts[this.added] = start;
    this.lengths[this.added++] = length;
  }

  /** The keys added, as columns of `bytes` (the array their places are in). */
  columns(bytes: Uint8Array): KeyColumns {
    return { bytes, starts: this.starts, lengths: this.lengths };
  }
}

/** `bigger` with `old` copied into its start: a column grown (here and in merge-outputs.ts). */
export function grown<T extends Uint8Array | Uint32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old as ArrayLike<number>);
  return bigger;
}

/**
 * Key numbers `0..count-1` ordered by their keys' bytes (compareKeys' order); equal keys keep
 * their numbers' order. Pure; any thread may call it.
 */
export function sortKeyOrder(keys: KeyColumns, count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  // Keys already in order (a merge's output, for its key run) cost one pass.
  if (inOrder(keys, count)) return order;
  if (!LITTLE_ENDIAN || count > PLACE_MASK + 1) {
    order.sort((a, b) => compareKeyNumbers(keys, a, b));
    return order;
  }
  // Groups of keys that agree on their first `depth` bytes, still to sort: (from, to, depth).
  const pending: number[] = [0, count, 0];
  while (pending.length > 0) {
    const depth = pending.pop()!;
    const to = pending.pop()!;
    const from = pending.pop()!;
    sortGroup(keys, order, from, to, depth, pending);
  }
  return order;
}

/**
 * `keys` sorted (compareKeys' order, equal keys in their given order), as views of one copy of
 * their bytes.
 */
export function sortKeys(keys: readonly Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const key of keys) total += key.length;
  const bytes = new Uint8Array(total);
  const starts = new Float64Array(keys.length);
  const lengths = new Uint32Array(keys.length);
  let at = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    bytes.set(key, at);
    starts[i] = at;
    lengths[i] = key.length;
    at += key.length;
  }
  const order = sortKeyOrder({ bytes, starts, lengths }, keys.length);
  const sorted: Uint8Array[] = new Array(keys.length);
  for (let i = 0; i < order.length; i++) {
    const k = order[i]!;
    sorted[i] = bytes.subarray(starts[k]!, starts[k]! + lengths[k]!);
  }
  return sorted;
}

/** Whether keys `0..count-1` are already in order. */
function inOrder(keys: KeyColumns, count: number): boolean {
  for (let i = 1; i < count; i++) if (compareKeyNumbers(keys, i - 1, i) > 0) return false;
  return true;
}

/** compareKeys of keys `a` and `b`; equal keys by number. */
function compareKeyNumbers(keys: KeyColumns, a: number, b: number): number {
  const aStart = keys.starts[a]!;
  const bStart = keys.starts[b]!;
  return (
    compareKeyRanges(
      keys.bytes,
      aStart,
      aStart + keys.lengths[a]!,
      keys.bytes,
      bStart,
      bStart + keys.lengths[b]!,
    ) || a - b
  );
}

/**
 * Sorts `order[from, to)`, whose keys agree on their first `depth` bytes; pushes each run of
 * keys that still tie onto `pending`, to be sorted further on.
 */
function sortGroup(
  keys: KeyColumns,
  order: Uint32Array,
  from: number,
  to: number,
  depth: number,
  pending: number[],
): void {
  const n = to - from;
  if (n <= SMALL_GROUP) {
    insertionSort(keys, order, from, to, depth);
    return;
  }
  const { bytes, starts, lengths } = keys;
  // The bytes past `depth` that every key of the group shares, and its shortest key.
  const first = order[from]!;
  const firstStart = starts[first]!;
  let common = lengths[first]! - depth;
  let shortest = lengths[first]!;
  for (let k = from + 1; k < to && (common > 0 || shortest >= depth); k++) {
    const i = order[k]!;
    const length = lengths[i]!;
    if (length < shortest) shortest = length;
    const limit = Math.min(common, length - depth);
    const start = starts[i]! + depth;
    let c = 0;
    while (c < limit && bytes[start + c] === bytes[firstStart + depth + c]) c++;
    common = c;
  }
  // A key shorter than `depth` tied on the zero bytes that stood in for its missing ones: the
  // group's keys agree on `depth` bytes only with those zeros, so a full comparison orders them.
  if (shortest < depth) {
    const group = order.subarray(from, to);
    group.sort((a, b) => compareKeyNumbers(keys, a, b));
    return;
  }
  const at = depth + Math.max(common, 0);
  const words = new BigUint64Array(n);
  const halves = new Uint32Array(words.buffer);
  for (let p = 0; p < n; p++) {
    const i = order[from + p]!;
    const start = starts[i]! + at;
    const available = lengths[i]! - at;
    let high: number;
    let fifth: number;
    if (available >= PACKED_BYTES) {
      high =
        ((bytes[start]! << 24) |
          (bytes[start + 1]! << 16) |
          (bytes[start + 2]! << 8) |
          bytes[start + 3]!) >>>
        0;
      fifth = bytes[start + 4]!;
    } else {
      high = 0;
      for (let b = 0; b < 4; b++) high = high * 256 + (b < available ? bytes[start + b]! : 0);
      fifth = 0;
    }
    halves[2 * p] = ((fifth << PLACE_BITS) | p) >>> 0;
    halves[2 * p + 1] = high;
  }
  words.sort();
  const before = order.slice(from, to);
  for (let p = 0; p < n; p++) order[from + p] = before[halves[2 * p]! & PLACE_MASK]!;
  // Runs of equal packed bytes tie so far: each is sorted further on, 5 bytes deeper.
  let runStart = 0;
  for (let p = 1; p <= n; p++) {
    if (
      p < n &&
      halves[2 * p + 1] === halves[2 * runStart + 1] &&
      halves[2 * p]! >>> PLACE_BITS === halves[2 * runStart]! >>> PLACE_BITS
    )
      continue;
    const tied = p - runStart;
    if (tied > SMALL_GROUP) pending.push(from + runStart, from + p, at + PACKED_BYTES);
    else if (tied > 1) insertionSort(keys, order, from + runStart, from + p, at + PACKED_BYTES);
    runStart = p;
  }
}

/**
 * Sorts `order[from, to)` by key, then number, by insertion (for small groups). The keys agree
 * on their first `depth` bytes, so when all are that long only the bytes after are compared.
 */
function insertionSort(
  keys: KeyColumns,
  order: Uint32Array,
  from: number,
  to: number,
  depth: number,
): void {
  const { bytes, starts, lengths } = keys;
  let skip = depth;
  for (let k = from; k < to; k++) if (lengths[order[k]!]! < depth) skip = 0;
  for (let k = from + 1; k < to; k++) {
    const i = order[k]!;
    const iStart = starts[i]! + skip;
    const iEnd = starts[i]! + lengths[i]!;
    let j = k - 1;
    for (; j >= from; j--) {
      const o = order[j]!;
      const c =
        compareKeyRanges(bytes, starts[o]! + skip, starts[o]! + lengths[o]!, bytes, iStart, iEnd) ||
        o - i;
      if (c <= 0) break;
      order[j + 1] = o;
    }
    order[j + 1] = i;
  }
}
