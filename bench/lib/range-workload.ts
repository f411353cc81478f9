// Owns the range-scan workload: dataset A plus PREFIX_GROUPS groups of 1,000 keys sharing a
// prefix, interleaved into one load order; the random bounds of each scan shape, and the keys
// each scan must return, so every engine is checked against the same expectation.

import { type Dataset, hitKey, type LoadSource, prng } from './dataset.js';

/** Groups of prefix keys written beside dataset A. */
export const PREFIX_GROUPS = 8;
/** Keys in one prefix group. */
export const PREFIX_GROUP_KEYS = 1000;
/** Bounds drawn per scan shape; the timed loops cycle through them. */
const PROBES = 4096;
const PROBE_MASK = PROBES - 1;

/**
 * The prefix of group `g`: "pfx:" and 9 zero-padded digits (13 bytes). "pfx:" sorts after
 * dataset A's "key:", so no range of A's keys reaches a prefix key.
 */
export function prefixOf(g: number): string {
  return `pfx:${g.toString().padStart(9, '0')}`;
}

/** Key `i` (0 ≤ i < 1,000) of prefix group `g`: the prefix and 3 digits (16 bytes, as A's). */
export function prefixKey(g: number, i: number): string {
  return `${prefixOf(g)}${i.toString().padStart(3, '0')}`;
}

/** One kind of scan: how many consecutive keys, or a prefix group; direction; values or not. */
export interface ScanShape {
  /** Figure id part, e.g. "range100.reverse". */
  readonly variant: string;
  /** Words for labels, e.g. "100 keys, reverse". */
  readonly what: string;
  /** Keys every scan returns. */
  readonly keys: number;
  /** A whole prefix group (no limit) instead of `keys` consecutive keys of A (with limit). */
  readonly prefix: boolean;
  readonly reverse: boolean;
  readonly values: boolean;
}

/**
 * Bounds of one scan: keys from `low` (included) to `high` (excluded), in byte order. For a
 * prefix scan `prefix` is set and [low, high) is the same set: the group's prefix and the next
 * group's.
 */
export interface ScanBounds {
  readonly low: string;
  readonly high: string;
  readonly prefix?: string;
}

/** Dataset A's load order with the prefix groups' keys interleaved: what every engine loads. */
export class RangeData implements LoadSource {
  readonly keys: string[];
  /** Per load position: the dataset A position (≥ 0), or −1 − the prefix key's number. */
  private readonly source: Int32Array;

  constructor(private readonly data: Dataset) {
    const extra = PREFIX_GROUPS * PREFIX_GROUP_KEYS;
    const prefixKeys = Array.from({ length: extra }, (_, j) =>
      prefixKey(Math.floor(j / PREFIX_GROUP_KEYS), j % PREFIX_GROUP_KEYS),
    );
    const next = prng(0x9f1c);
    for (let j = extra - 1; j > 0; j--) {
      const k = next() % (j + 1);
      [prefixKeys[j], prefixKeys[k]] = [prefixKeys[k]!, prefixKeys[j]!];
    }
    // One prefix key after every (count ÷ extra)-th key of A, so both spread over the whole log.
    this.keys = [];
    this.source = new Int32Array(data.count + extra);
    let j = 0;
    for (let n = 0; n < data.count; n++) {
      this.source[this.keys.length] = n;
      this.keys.push(data.keys[n]!);
      while (j < extra && (j + 1) * data.count <= (n + 1) * extra) {
        this.source[this.keys.length] = -1 - j;
        this.keys.push(prefixKeys[j]!);
        j++;
      }
    }
  }

  get count(): number {
    return this.keys.length;
  }

  /** The value of the n-th key in load order: A's own, or a 100 B window for a prefix key. */
  value(n: number): Buffer {
    const s = this.source[n]!;
    return this.data.value(s >= 0 ? s : (-1 - s) % this.data.count);
  }
}

/** PROBES random scans of one shape over dataset A's `count` keys (or the prefix groups). */
export class ScanProbe {
  /** Per probe: the first key's number in A, or the prefix group. */
  private readonly starts: Uint32Array;
  private readonly bounds: ScanBounds[];

  constructor(
    readonly shape: ScanShape,
    count: number,
    seed: number,
  ) {
    if (!shape.prefix && count < shape.keys)
      throw new Error(`range: --keys must be at least ${shape.keys} (${shape.what})`);
    const next = prng(seed);
    const span = shape.prefix ? PREFIX_GROUPS : count - shape.keys + 1;
    this.starts = Uint32Array.from({ length: PROBES }, () => next() % span);
    this.bounds = Array.from(this.starts, (s) =>
      shape.prefix
        ? { low: prefixOf(s), high: prefixOf(s + 1), prefix: prefixOf(s) }
        : { low: hitKey(s), high: hitKey(s + shape.keys) },
    );
  }

  /** The bounds of scan i of a timed loop. */
  at(i: number): ScanBounds {
    return this.bounds[i & PROBE_MASK]!;
  }

  /** The keys scan i must return, in the order it must return them. */
  expected(i: number): string[] {
    const s = this.starts[i & PROBE_MASK]!;
    const { keys, prefix, reverse } = this.shape;
    const list = Array.from({ length: keys }, (_, k) => (prefix ? prefixKey(s, k) : hitKey(s + k)));
    return reverse ? list.reverse() : list;
  }
}
