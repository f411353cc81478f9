// Worker entry for the hand-off probe (lib/hand-offs.ts): answers each message after working
// (spinning) for the job's `busyUs`, so the thread that sent it sleeps that long meanwhile.

import { parentPort, workerData } from 'node:worker_threads';
import type { HandOffJob } from '../lib/hand-offs.js';

const { busyUs } = workerData as HandOffJob;
const port = parentPort!;
port.on('message', (round: number) => {
  const until = performance.now() + busyUs / 1000;
  while (performance.now() < until);
  port.postMessage(round);
});
