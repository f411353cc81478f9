// What waking another thread costs the thread that wakes it, on this machine (issue 12): the
// sender's own time inside one `postMessage` (what kvd's caller pays per writer message, and
// the writer per reply) and inside one `Atomics.notify`, when the receiving thread has been
// idle for a given time. A receiver that sleeps must be woken by the kernel, which in a VM
// means an interrupt to another vCPU; one that is still awake costs only the queueing.
// Not a timing scenario of kvd: it prints a table and JSON.
// Run: tsc -p tsconfig.bench.json && node dist-bench/bench/wake-cost.js [--sends N]

import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { median } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const { values: flags } = parseArgs({
  options: { sends: { type: 'string', default: '3000' } },
});
const sends = Number(flags.sends);
/** How long the sender works (spins) before each send, µs; the receiver is idle meanwhile. */
const GAPS_US = [0, 50, 150, 300] as const;

// The receiver counts messages on its event loop, and waits in Atomics.wait for notifies.
const RECEIVER = `
const { parentPort, workerData } = require('node:worker_threads');
const cells = new Int32Array(workerData.shared);
if (workerData.kind === 'message') parentPort.on('message', () => Atomics.add(cells, 1, 1));
else for (;;) { const seen = Atomics.load(cells, 0); Atomics.wait(cells, 0, seen); Atomics.add(cells, 1, 1); }
`;

type Kind = 'message' | 'notify';

function spinUs(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

/** Waits (bounded) until the receiver has counted `count` wake-ups. */
async function received(cells: Int32Array, count: number): Promise<void> {
  for (let i = 0; i < 1000 && Atomics.load(cells, 1) < count; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The sender's median and mean time per send, µs, for each gap. */
async function measure(kind: Kind): Promise<{ gapUs: number; medianUs: number; meanUs: number }[]> {
  const shared = new SharedArrayBuffer(8);
  const cells = new Int32Array(shared);
  const worker = new Worker(RECEIVER, { eval: true, workerData: { kind, shared } });
  await new Promise((resolve) => worker.once('online', resolve));
  // A comlink-shaped message, as kvd's writer link sends one.
  const message = { id: 'a', type: 'APPLY', path: ['write'], argumentList: [{ type: 'RAW' }] };
  const out = [];
  for (const gapUs of GAPS_US) {
    const times: number[] = [];
    for (let i = 0; i < sends; i++) {
      spinUs(gapUs);
      const start = performance.now();
      if (kind === 'message') worker.postMessage(message);
      else {
        Atomics.add(cells, 0, 1);
        Atomics.notify(cells, 0);
      }
      times.push((performance.now() - start) * 1000);
    }
    const meanUs = times.reduce((a, b) => a + b, 0) / times.length;
    out.push({ gapUs, medianUs: median(times), meanUs });
  }
  if (kind === 'message') await received(cells, sends * GAPS_US.length);
  await worker.terminate();
  return out;
}

const results = { message: await measure('message'), notify: await measure('notify') };
console.log(`the sender's time per wake-up, ${sends} sends per row`);
console.log(
  renderTable(
    ['receiver idle', 'postMessage median µs', 'mean µs', 'Atomics.notify median µs', 'mean µs'],
    GAPS_US.map((gapUs, i) => [
      `${gapUs} µs`,
      results.message[i]!.medianUs.toFixed(1),
      results.message[i]!.meanUs.toFixed(1),
      results.notify[i]!.medianUs.toFixed(1),
      results.notify[i]!.meanUs.toFixed(1),
    ]),
  ),
);
console.log(JSON.stringify({ probe: 'wake-cost', sends, ...results }));
