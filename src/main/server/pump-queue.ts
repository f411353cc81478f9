// Owns when connections pump after their store work settles: every connection that asks during
// one wave of microtasks is pumped from one microtask, in the order they asked. A turn's store
// batch settles the requests of many connections at once (all of a turn's GETs, a writer
// reply's SETs), and Node's `queueMicrotask` costs ~300 ns a call here (it makes an
// AsyncResource each time), so one call per wave replaces one per connection.

/** What the queue pumps: a connection. */
export interface Pumpable {
  /** Runs the pump this connection asked for (`pumpSoon`). */
  runScheduledPump(): void;
}

/**
 * Connections waiting for their pump, in order; `head` is the next to run. A microtask is
 * queued exactly while this is not empty. Main thread.
 */
let queued: Pumpable[] = [];
let head = 0;

/**
 * Pumps `connection` after the current microtasks, with every other connection that asks
 * before then. A pump that asks again (it settled more requests) runs again in the same wave.
 */
export function pumpSoon(connection: Pumpable): void {
  if (queued.push(connection) === 1) queueMicrotask(runQueued);
}

function runQueued(): void {
  try {
    while (head < queued.length) queued[head++]!.runScheduledPump();
  } finally {
    if (head < queued.length) {
      // A pump threw: the rest still run, from a new microtask (the error goes on as before).
      queueMicrotask(runQueued);
    } else {
      queued = [];
      head = 0;
    }
  }
}
