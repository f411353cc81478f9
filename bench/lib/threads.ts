// Owns the main side of multi-thread measurements: start one worker per job, release them
// all at once when every one is ready, collect their measurements and sum them.

import { Worker } from 'node:worker_threads';
import type { Measurement } from './measure.js';
import type { FromThread, ToThread } from './thread-messages.js';

/**
 * Starts `script` once per job (the job is its workerData), waits until all are ready, sends
 * "go" to all, and resolves with each worker's measurement. Rejects if any worker fails.
 */
export async function measureInThreads<J>(script: URL, jobs: readonly J[]): Promise<Measurement[]> {
  const workers = jobs.map((job) => new Worker(script, { workerData: job }));
  try {
    const ready: Promise<void>[] = [];
    const done = workers.map(
      (worker, w) =>
        new Promise<Measurement>((resolve, reject) => {
          ready.push(
            new Promise<void>((resolveReady) => {
              worker.on('message', (message: FromThread) => {
                if (message.type === 'ready') resolveReady();
                else if (message.type === 'done') resolve(message.measurement);
                else reject(new Error(`worker ${w} failed: ${message.message}`));
              });
            }),
          );
          worker.once('error', reject);
          worker.once('exit', (code) =>
            reject(new Error(`worker ${w} exited (code ${code}) before reporting`)),
          );
        }),
    );
    await Promise.race([Promise.all(ready), Promise.all(done)]);
    const go: ToThread = { type: 'go' };
    for (const worker of workers) worker.postMessage(go);
    return await Promise.all(done);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Totals of measurements taken side by side: rates, ops and keys add; latency is the worst. */
export function sumThreads(parts: readonly Measurement[]): Measurement {
  const sum = (pick: (m: Measurement) => number) => parts.reduce((n, m) => n + pick(m), 0);
  return {
    perSec: sum((m) => m.perSec),
    samples: Math.min(...parts.map((m) => m.samples)),
    p50Us: Math.max(...parts.map((m) => m.p50Us)),
    p99Us: Math.max(...parts.map((m) => m.p99Us)),
    ops: sum((m) => m.ops),
    keys: sum((m) => m.keys),
    found: sum((m) => m.found),
  };
}
