// Owns writing the hint file of a sealed log segment: scan it once (the same effect scan as
// recovery) and write every effect's key, location and sequence crash-safely beside it. Runs on
// the compaction worker, off the writer's thread; merged segments get theirs from the merge.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UnhintedSegment } from '../shared/compaction-messages.js';
import { KvError } from '../shared/errors.js';
import { faultPoint } from '../shared/fault-points.js';
import {
  RECORD_HEADER_BYTES,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from '../shared/format.js';
import { HintBuilder, hintFileName } from '../shared/hint-format.js';
import { scanEffects } from '../shared/segment-scan.js';
import type { Throttle } from '../shared/throttle.js';
import { commitTemp, syncDirectory, writeTemp } from './durable-file.js';

/** Writes `<id>.hint` for sealed segment `segment`; returns its entry count. Throws on damage. */
export function writeSegmentHint(
  dir: string,
  segment: UnhintedSegment,
  throttle: Throttle,
): number {
  const name = segmentFileName(segment.id);
  const bytes = readFileSync(join(dir, name));
  if (bytes.length !== segment.size) {
    throw new KvError(
      'KV_CORRUPTION',
      `${name} has ${bytes.length} bytes, the writer expects ${segment.size}`,
    );
  }
  throttle.spent(bytes.length);
  const hint = new HintBuilder();
  const outcome = scanEffects(
    bytes,
    SEGMENT_HEADER_BYTES,
    bytes.length,
    (type, offset, length, seq) => {
      const keyLength = recordKeyLength(bytes, offset);
      hint.add(type, bytes, offset + RECORD_HEADER_BYTES, keyLength, offset, length, seq);
    },
  );
  if (outcome.goodEnd !== bytes.length) {
    throw new KvError(
      'KV_CORRUPTION',
      `${name} at offset ${outcome.problemAt}: ${outcome.problem}`,
    );
  }
  hint.noteSeq(outcome.lastSeq);
  throttle.checkStop();
  const hintName = hintFileName(segment.id);
  writeTemp(dir, hintName, hint.finish(segment.id, bytes.length));
  faultPoint('hint-written');
  commitTemp(dir, hintName);
  syncDirectory(dir);
  return outcome.effects;
}
