// Owns the hand-off probe: what two postMessage hops between threads cost on this machine when
// the thread that waits for the answer has slept a short or a long time. A round trip sends a
// message to a worker that works (spins) `busyUs` and answers; the round trip minus `busyUs`
// is the two hops. kvd's write path is such a round trip (the caller sleeps while the writer
// appends and syncs), so this is the floor its hand-offs stand on (bench/ANALYSIS.md).

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

export interface HandOffJob {
  /** How long the worker works before it answers, µs. */
  readonly busyUs: number;
}

/** Round trips timed after the warm-up ones. */
const WARM_UP_ROUNDS = 200;

/**
 * Times `rounds` round trips to a worker that works `busyUs` before it answers; resolves with
 * each round trip's two hops (its time minus `busyUs`), ms.
 */
export async function measureHandOffs(busyUs: number, rounds: number): Promise<Float64Array> {
  const job: HandOffJob = { busyUs };
  const worker = new Worker(new URL('../workers/hand-off-worker.js', import.meta.url), {
    workerData: job,
  });
  const hops = new Float64Array(rounds);
  try {
    await once(worker, 'online');
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      let round = -WARM_UP_ROUNDS;
      let sentAt = 0;
      const send = () => {
        sentAt = performance.now();
        worker.postMessage(round);
      };
      worker.on('message', () => {
        if (round >= 0) hops[round] = performance.now() - sentAt - busyUs / 1000;
        if (++round === rounds) resolve();
        else send();
      });
      send();
    });
  } finally {
    await worker.terminate();
  }
  return hops;
}
