// The version log's hold protocol across threads: a snapshot taken while the writer publishes
// a run that does not record displaced versions waits for the run's end (it could miss one of
// its versions otherwise), and one taken while a recording run is in progress (another snapshot
// was held when the run began) does not wait. This thread plays the writer; a worker takes the
// snapshot and reports when holdSnapshot returned.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionLog } from '../../dist/shared/version-log.js';
import { pollUntil } from '../fixtures/poll.js';
import { distUrl, TestWorker, WorkerSources } from './thread-harness.js';

const HOLDER = `
import { parentPort, workerData } from 'node:worker_threads';
import { VersionLog } from '${distUrl('shared/version-log.js')}';
const log = new VersionLog(workerData.buffer);
parentPort.postMessage('started');
log.holdSnapshot();
parentPort.postMessage('held');
`;

let sources: WorkerSources;
let holderPath: string;

beforeAll(async () => {
  sources = await WorkerSources.create();
  holderPath = await sources.write('holder', HOLDER);
});
afterAll(() => sources.dispose());

describe('VersionLog.holdSnapshot', () => {
  it('waits for a run that does not record, and returns once it ends', async () => {
    const log = VersionLog.create();
    expect(log.writerBeginRun()).toBe(false); // no snapshot held: this run records nothing
    const holder = new TestWorker(holderPath, { buffer: log.buffer });
    try {
      expect(await holder.next()).toBe('started');
      // The worker is now inside holdSnapshot (or about to be): it has counted itself...
      await pollUntil('the worker counts its hold', () => log.held === 1, 30_000);
      // ...and cannot have returned, since the run is still open: end it, and it returns.
      log.writerEndRun();
      expect(await holder.next()).toBe('held');
      // The next run sees the hold and records.
      expect(log.writerBeginRun()).toBe(true);
      log.writerEndRun();
    } finally {
      await holder.worker.terminate();
    }
  });

  it('does not wait for a run that records (another snapshot was held when it began)', async () => {
    const log = VersionLog.create();
    log.holdSnapshot(); // no run in progress: returns at once
    expect(log.writerBeginRun()).toBe(true); // this run records what it displaces
    const holder = new TestWorker(holderPath, { buffer: log.buffer });
    try {
      expect(await holder.next()).toBe('started');
      // The run stays open until after the second snapshot is held.
      expect(await holder.next()).toBe('held');
      expect(log.held).toBe(2);
    } finally {
      log.writerEndRun();
      await holder.worker.terminate();
    }
  });
});
