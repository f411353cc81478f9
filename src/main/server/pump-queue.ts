// Owns when connections pump after their store work settles: every connection that asks during
// one wave of microtasks is pumped from one microtask, in the order they asked. A turn's store
// batch settles the requests of many connections at once (all of a turn's GETs, a writer
// reply's SETs), and Node's `queueMicrotask` costs ~300 ns a call here (it makes an
// AsyncResource each time), so one call per wave replaces one per connection.

import { RunQueue } from './run-queue.js';

/** What the queue pumps: a connection. */
export interface Pumpable {
  /** Runs the pump this connection asked for (`pumpSoon`). */
  runScheduledPump(): void;
}

/** Connections waiting for their pump, in order, run from one microtask. Main thread. */
const queued = new RunQueue<Pumpable>(
  (run) => queueMicrotask(run),
  (connection) => connection.runScheduledPump(),
);

/**
 * Pumps `connection` after the current microtasks, with every other connection that asks
 * before then. A pump that asks again (it settled more requests) runs again in the same wave.
 */
export function pumpSoon(connection: Pumpable): void {
  queued.add(connection);
}
