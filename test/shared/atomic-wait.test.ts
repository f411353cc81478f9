// Tests for waiting on a shared counter (src/shared/atomic-wait.ts), as the writer waits for
// segment pins and held snapshots: the wait ends when the release that brings the counter to 0
// notifies (no polling: without the notify it would run to its timeout), stays pending while
// the counter is above 0, and gives up at its timeout. Also through IndexTable's pins and the
// VersionLog's holds, released by another thread.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decrementAndNotify, untilZero } from '../../dist/shared/atomic-wait.js';
import { IndexTable } from '../../dist/shared/index-table.js';
import { VersionLog } from '../../dist/shared/version-log.js';
import { distUrl, TestWorker, WorkerSources } from './thread-harness.js';

/** Long enough that a test passing within it proves the notify, not the timeout, woke it. */
const LONG_MS = 20_000;

const RELEASER = `
import { parentPort, workerData } from 'node:worker_threads';
import { IndexTable } from '${distUrl('shared/index-table.js')}';
import { VersionLog } from '${distUrl('shared/version-log.js')}';
const index = new IndexTable(workerData.index);
const log = new VersionLog(workerData.log);
parentPort.on('message', (what) => {
  if (what === 'unpin') index.segments.unpin();
  else log.releaseSnapshot();
  parentPort.postMessage('done');
});
parentPort.postMessage('started');
`;

let sources: WorkerSources;
let releaserPath: string;

beforeAll(async () => {
  sources = await WorkerSources.create();
  releaserPath = await sources.write('releaser', RELEASER);
});
afterAll(() => sources.dispose());

/** Whether `p` has settled after the event loop has had its turn. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
}

describe('untilZero', () => {
  it('resolves true at once when the counter is 0', async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    expect(await untilZero(words, 1, LONG_MS)).toBe(true);
  });

  it('waits while the counter is above 0 and wakes on the release that reaches 0', async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    words[0] = 2;
    const started = performance.now();
    const waiting = untilZero(words, 0, LONG_MS);
    decrementAndNotify(words, 0);
    expect(await settled(waiting)).toBe(false); // 1 left
    decrementAndNotify(words, 0);
    expect(await waiting).toBe(true);
    expect(words[0]).toBe(0);
    expect(performance.now() - started).toBeLessThan(LONG_MS / 2);
  });

  it('resolves false when the counter stays above 0 past the timeout', async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    words[0] = 1;
    expect(await untilZero(words, 0, 20)).toBe(false);
    expect(words[0]).toBe(1);
  });
});

describe('segment pins and held snapshots, released by another thread', () => {
  it('wakes the writer-side waits', async () => {
    const index = IndexTable.create(16);
    const log = VersionLog.create();
    const releaser = new TestWorker(releaserPath, { index: index.buffer, log: log.buffer });
    try {
      expect(await releaser.next()).toBe('started');
      index.segments.pin();
      log.holdSnapshot();
      const unpinned = index.segments.whenUnpinned(LONG_MS);
      const released = log.whenNoneHeld();
      expect(await settled(unpinned)).toBe(false);
      expect(await settled(released)).toBe(false);
      releaser.worker.postMessage('unpin');
      expect(await releaser.next()).toBe('done');
      expect(await unpinned).toBe(true);
      releaser.worker.postMessage('release');
      expect(await releaser.next()).toBe('done');
      await released;
      expect(log.held).toBe(0);
    } finally {
      await releaser.worker.terminate();
    }
  });
});
