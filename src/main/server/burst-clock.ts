// Owns the clock the daemon times its direct GETs and SETs with (INFO commandstats): one
// `performance.now()` reading per synchronous burst of work (a socket's pipelined requests
// started in one pump, a batch of reads or writes answered together) instead of two per
// request. On the 2-core VM a reading costs ~47 ns, about 2% of a GET under `-P 16`.

/**
 * A `performance.now()` reading kept until `forget()`: the first `now()` after a `forget()`
 * reads the clock, later ones share that reading. The connections forget it as each pump
 * starts and ends; since every answer a store batch gives schedules a pump, a burst of
 * answers never sees a reading from an earlier burst either. Only for spans that end in a
 * later burst than they start (a direct request's store round trip). Main thread.
 */
export class BurstClock {
  private reading = 0;
  private held = false;

  /** The current burst's reading (ms, `performance.now()`'s origin). */
  now(): number {
    if (!this.held) {
      this.reading = performance.now();
      this.held = true;
    }
    return this.reading;
  }

  /** Ends the burst: the next `now()` reads the clock. */
  forget(): void {
    this.held = false;
  }
}
