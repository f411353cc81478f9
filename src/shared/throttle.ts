// Owns pacing and stopping compaction I/O: a byte-rate limit that sleeps the compaction worker
// (Atomics.wait, so the thread truly idles) when it runs ahead, and the shared stop flag the
// caller's thread raises on close (requestStop). The worker paces; the caller's thread stops it.

import { KvError } from './errors.js';

/** Paces work to `bytesPerSecond` (0 = unlimited) and checks the stop flag. */
export class Throttle {
  private readonly control: Int32Array;
  private readonly started = performance.now();
  private bytes = 0;

  constructor(
    control: SharedArrayBuffer,
    private readonly bytesPerSecond: number,
  ) {
    this.control = new Int32Array(control);
  }

  /** Accounts `n` bytes of work; sleeps if ahead of the rate. Throws `KV_CLOSED` if stopped. */
  spent(n: number): void {
    this.checkStop();
    this.bytes += n;
    if (this.bytesPerSecond <= 0) return;
    const due = (this.bytes / this.bytesPerSecond) * 1000;
    const ahead = due - (performance.now() - this.started);
    // Sleeps on the stop word, so raising it (with a notify) cuts the sleep short.
    if (ahead > 1) Atomics.wait(this.control, 0, 0, ahead);
    this.checkStop();
  }

  /** Throws `KV_CLOSED` if the caller asked the work to stop. */
  checkStop(): void {
    if (Atomics.load(this.control, 0) !== 0) {
      throw new KvError('KV_CLOSED', 'compaction stopped: the store is closing');
    }
  }
}

/** Raises the stop flag of a compaction job's control buffer and wakes a sleeping worker. */
export function requestStop(control: SharedArrayBuffer): void {
  const words = new Int32Array(control);
  Atomics.store(words, 0, 1);
  Atomics.notify(words, 0);
}
