// Owns making a segment's key run (key-run-format.ts) from its hint file's bytes, which hold
// every key of the segment compactly: the hint job and the merge call it right after building
// the hint, so neither keeps the segment's keys twice. Compaction worker and writer.

import { KvError } from '../shared/errors.js';
import { TYPE_PUT } from '../shared/format.js';
import { describeHintFailure, isHintFailure, readHint } from '../shared/hint-format.js';
import { buildKeyRunOf } from '../shared/key-run-format.js';
import { KeyPlaces } from '../shared/key-sort.js';
import type { BlockCompressor } from '../shared/sorted-format.js';

/**
 * The key run of segment `segmentId` (`segmentSize` bytes, holding log segments
 * `first..last`) from the hint just built for it: every key with a put, sorted, once, its
 * blocks compressed by `compressor` where that pays (default: none).
 */
export function keyRunFromHint(
  hint: Uint8Array,
  segmentId: number,
  segmentSize: number,
  first: number,
  last: number,
  compressor?: BlockCompressor,
): Uint8Array {
  const parsed = readHint(hint, segmentId, segmentSize);
  if (isHintFailure(parsed)) {
    throw new KvError(
      'KV_INTERNAL',
      `a hint just built is not valid: ${describeHintFailure(parsed)}`,
    );
  }
  // The keys as columns of the hint's bytes: no view per key (453k of them in a 64 MiB segment).
  const places = new KeyPlaces();
  parsed.forEach((type, _bytes, keyStart, keyLength) => {
    if (type === TYPE_PUT) places.add(keyStart, keyLength);
  });
  return buildKeyRunOf(places.columns(hint), places.count, segmentId, first, last, compressor);
}
