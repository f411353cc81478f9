// Worker entry for the parallel scenario: times lmdb gets of random present keys on this
// thread, through its own handle on the shared environment.

import { parentPort, workerData } from 'node:worker_threads';
import { openLmdb } from '../engines/lmdb.js';
import { probeAt, probeKeys } from '../lib/dataset.js';
import { measureSync } from '../lib/measure.js';
import type { ReadJob } from '../lib/thread-messages.js';
import { serveMeasurement } from '../lib/thread-side.js';

const job = workerData as ReadJob;
const db = openLmdb(job.path, true);
const probe = probeKeys(job.count, 'hit', job.seed);

serveMeasurement(
  parentPort!,
  () =>
    measureSync((i) => (db.get(probeAt(probe, i))?.length === job.valueBytes ? 1 : 0), {
      timeMs: job.timeMs,
    }),
  () => db.close(),
);
