// Entry point of the compaction worker thread: runs one job from workerData (a merge, or a
// sealed segment's hint file), posting progress and then its result or error. Started by the
// caller's thread (src/main/compactor.ts) for each job, so a crash here never touches the writer.

import { parentPort, workerData } from 'node:worker_threads';
import { compressorFor } from '../shared/block-compression.js';
import type { CompactionEvent, CompactionJob } from '../shared/compaction-messages.js';
import { serializeError } from '../shared/errors.js';
import { IndexTable } from '../shared/index-table.js';
import { Throttle } from '../shared/throttle.js';
import { mergeSegments } from './merge.js';
import { writeSegmentHint } from './segment-hint.js';

const job = workerData as CompactionJob;
const post = (event: CompactionEvent, transfer: ArrayBuffer[] = []) =>
  parentPort!.postMessage(event, transfer);

try {
  const throttle = new Throttle(job.control, job.bytesPerSecond);
  const compressor = compressorFor(job.blocks.compression, job.blocks.level);
  if (job.kind === 'merge') {
    let lastPost = 0;
    const result = mergeSegments(
      job.dir,
      new IndexTable(job.index),
      job.plan,
      throttle,
      (bytesRead, bytesTotal) => {
        const now = performance.now();
        if (now - lastPost < 200 && bytesRead < bytesTotal) return;
        lastPost = now;
        post({ kind: 'progress', bytesRead, bytesTotal });
      },
      undefined,
      compressor,
      job.mapInputs,
    );
    post({ kind: 'merged', result }, [result.moves.buffer as ArrayBuffer]);
  } else {
    post({
      kind: 'hinted',
      entries: writeSegmentHint(job.dir, job.segment, throttle, undefined, compressor),
    });
  }
} catch (error) {
  post({ kind: 'failed', error: serializeError(error) });
}
