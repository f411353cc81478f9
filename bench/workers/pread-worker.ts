// Worker entry for the anchor: times random preads of one file on this thread.

import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { probeOffsets } from '../lib/dataset.js';
import { measureSync } from '../lib/measure.js';
import type { PreadJob } from '../lib/thread-messages.js';
import { serveMeasurement } from '../lib/thread-side.js';

const job = workerData as PreadJob;
const fd = openSync(job.path, 'r');
const offsets = probeOffsets(job.fileBytes, job.readBytes, job.seed);
const buffer = Buffer.allocUnsafe(job.readBytes);
const mask = offsets.length - 1;

serveMeasurement(
  parentPort!,
  () =>
    measureSync(
      (i) => (readSync(fd, buffer, 0, job.readBytes, offsets[i & mask]!) === job.readBytes ? 1 : 0),
      {
        timeMs: job.timeMs,
      },
    ),
  () => closeSync(fd),
);
