// The one definition of key runs (FORMAT.md, "Key run"): beside every sealed or merged segment,
// `NNNNNN.keys`, a sorted segment (sorted-format.ts) holding each key that segment has a put
// for, in byte order, without values. Range scans merge the key runs with the keys written
// since (key-memtable.ts) and ask the index which keys are live. Build and name here.

import { Buffer } from 'node:buffer';
import { TYPE_PUT } from './format.js';
import { compareKeys } from './key-order.js';
import { type KeyColumns, sortKeyOrder, sortKeys } from './key-sort.js';
import type { BlockCompressor } from './sorted-format.js';
import { SortedSegmentWriter } from './sorted-segment-writer.js';

const EMPTY = new Uint8Array(0);

/**
 * Target raw bytes of a key run's data block: 1 KiB, not the data segments' 4 KiB. A scan
 * decodes a whole block to start in it, and a short scan of a fresh store takes a few keys from
 * each run: 100-key scans went from about 300k to 420k keys/s at 1M keys with 1 KiB blocks
 * (bench/ANALYSIS.md, "Range scans"). Readers take any block size.
 */
export const KEY_RUN_BLOCK_BYTES = 1024;

/** Key run file name for segment `id`. */
export function keysFileName(id: number): string {
  return `${String(id).padStart(6, '0')}.keys`;
}

/** Parses a key run file name, or returns undefined if the name is not one. */
export function parseKeysFileName(name: string): number | undefined {
  const m = /^(\d{6,})\.keys$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Encodes the key run of segment `segmentId` (holding log segments `first..last`) from the keys
 * of its puts, in any order and with repeats (views into the segment's bytes are fine): sorts
 * them, keeps each once, and returns the file's bytes; `compressor` (default none) compresses
 * the data and index blocks where that pays.
 */
export function buildKeyRun(
  keys: readonly Uint8Array[],
  segmentId: number,
  first: number,
  last: number,
  compressor?: BlockCompressor,
): Uint8Array {
  const sorted = sortKeys(keys);
  return encodeKeyRun(sorted.length, (i) => sorted[i]!, segmentId, first, last, compressor);
}

/**
 * `buildKeyRun` of the `count` keys held as columns (key `i` is
 * `keys.bytes[keys.starts[i], +keys.lengths[i])`): no view of each key is made to sort them.
 */
export function buildKeyRunOf(
  keys: KeyColumns,
  count: number,
  segmentId: number,
  first: number,
  last: number,
  compressor?: BlockCompressor,
): Uint8Array {
  const order = sortKeyOrder(keys, count);
  const { bytes, starts, lengths } = keys;
  const keyAt = (i: number) => {
    const k = order[i]!;
    return bytes.subarray(starts[k]!, starts[k]! + lengths[k]!);
  };
  return encodeKeyRun(count, keyAt, segmentId, first, last, compressor);
}

/** Encodes the key run of `count` keys, given in order by `keyAt`, each kept once. */
function encodeKeyRun(
  count: number,
  keyAt: (i: number) => Uint8Array,
  segmentId: number,
  first: number,
  last: number,
  compressor: BlockCompressor | undefined,
): Uint8Array {
  const writer = new SortedSegmentWriter({
    segmentId,
    first,
    last,
    compressor,
    blockBytes: KEY_RUN_BLOCK_BYTES,
  });
  const chunks: Uint8Array[] = [];
  let previous: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const key = keyAt(i);
    if (previous && compareKeys(previous, key) === 0) continue;
    previous = key;
    const chunk = writer.add({ key, type: TYPE_PUT, value: EMPTY, seq: 0, expiresAt: 0 });
    if (chunk) chunks.push(chunk);
  }
  chunks.push(writer.finish());
  return Buffer.concat(chunks);
}
