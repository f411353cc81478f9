// Owns writing the hint file of a sealed log segment: scan it once (the same effect scan as
// recovery) and write every effect's key, location and sequence crash-safely beside it. Runs on
// the compaction worker, off the writer's thread; merged segments get theirs from the merge.

import { join } from 'node:path';
import type { UnhintedSegment } from '../shared/compaction-messages.js';
import { KvError } from '../shared/errors.js';
import {
  RECORD_HEADER_BYTES,
  recordExpiresAt,
  recordKeyLength,
  segmentFileName,
  TYPE_PUT,
} from '../shared/format.js';
import { HintBuilder, hintFileName } from '../shared/hint-format.js';
import { keysFileName } from '../shared/key-run-format.js';
import { scanSealedSegment } from '../shared/segment-scan.js';
import type { BlockCompressor } from '../shared/sorted-format.js';
import type { Throttle } from '../shared/throttle.js';
import { writeFileDurably } from './durable-file.js';
import { type FileSystem, nodeFileSystem } from './file-system.js';
import { keyRunFromHint } from './key-run-writer.js';

/**
 * Writes `<id>.keys` and then `<id>.hint` for sealed segment `segment` (the key run's blocks
 * compressed by `compressor` where that pays; default none); returns the hint's entry count.
 * Throws on damage.
 */
export function writeSegmentHint(
  dir: string,
  segment: UnhintedSegment,
  throttle: Throttle,
  files: FileSystem = nodeFileSystem,
  compressor?: BlockCompressor,
): number {
  const name = segmentFileName(segment.id);
  const bytes = files.readFile(join(dir, name));
  if (bytes.length !== segment.size) {
    throw new KvError(
      'KV_CORRUPTION',
      `${name} has ${bytes.length} bytes, the writer expects ${segment.size}`,
    );
  }
  throttle.spent(bytes.length);
  const hint = new HintBuilder();
  const outcome = scanSealedSegment(bytes, bytes.length, name, (type, offset, length, seq) => {
    const keyLength = recordKeyLength(bytes, offset);
    const expiresAt = type === TYPE_PUT ? recordExpiresAt(bytes, offset) : 0;
    hint.add(type, bytes, offset + RECORD_HEADER_BYTES, keyLength, offset, length, seq, expiresAt);
  });
  hint.noteSeq(outcome.lastSeq);
  throttle.checkStop();
  const hintBytes = hint.finish(segment.id, bytes.length);
  // The key run first: a segment counts as hinted only once both exist (recovery checks).
  const keys = keyRunFromHint(
    hintBytes,
    segment.id,
    bytes.length,
    segment.id,
    segment.id,
    compressor,
  );
  writeFileDurably(files, dir, keysFileName(segment.id), 'keys-written', keys);
  writeFileDurably(files, dir, hintFileName(segment.id), 'hint-written', hintBytes);
  return outcome.effects;
}
