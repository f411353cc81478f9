// Worker entry for the parallel scenario: times SQLite point SELECTs of random present keys
// on this thread, through its own read-only connection.

import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, selectValue } from '../engines/sqlite.js';
import { probeAt, probeKeys } from '../lib/dataset.js';
import { measureSync } from '../lib/measure.js';
import type { ReadJob } from '../lib/thread-messages.js';
import { serveMeasurement } from '../lib/thread-side.js';

const job = workerData as ReadJob;
const db = openSqlite(job.path, job.valueBytes, true);
const select = selectValue(db);
const probe = probeKeys(job.count, 'hit', job.seed);

serveMeasurement(
  parentPort!,
  () =>
    measureSync((i) => (select(probeAt(probe, i))?.length === job.valueBytes ? 1 : 0), {
      timeMs: job.timeMs,
    }),
  () => db.close(),
);
