// Owns what a network thread counts of one client to tell when the main thread would serve it
// better: the requests its thread answered against those the main thread ran for it
// (REMOTE_ALLOWANCE), and its reads in a row that each brought one request (LONE_READS_MAX).
// get-connection.ts asks, and hands the client back.

/**
 * Requests the main thread runs for a client (its writes, SCAN, AUTH, …) before the client may
 * go back to the main thread for running more of them than the thread answers itself. Each
 * costs a round trip between the threads: a client that mostly writes is served better by the
 * main thread alone (the daemon's SETs ran ~25% slower kept on their thread, bench/ANALYSIS.md,
 * "Writes from a network thread's client"), one that mostly reads by its thread.
 */
export const REMOTE_ALLOWANCE = 32;

/**
 * Reads in a row that each brought one request (a client that waits for each reply, `-P 1`)
 * after which the client goes to the main thread, while the machine's cores are busy
 * (core-load.ts): a network thread then costs more in wake-ups than it gives, as each read wakes
 * it for one request (bench/ANALYSIS.md, "Two threads at −P1"). A read that brings two or more
 * starts the count again, so a client that pipelines stays; with cores to spare, every client
 * stays.
 */
export const LONE_READS_MAX = 64;

/** The two counts of a client's requests are halved once they reach this together. */
const COUNT_WINDOW = 65_536;

/** One client's counts. Network thread only. */
export class ClientHabits {
  /** Requests answered here, and run by the main thread (halved as they grow: COUNT_WINDOW). */
  private answeredHere = 0;
  private ranByMain = 0;
  /** Requests the current read brought that were answered here or sent to the main thread. */
  private takenThisRead = 0;
  /** Reads in a row that each brought one request. */
  private loneReads = 0;

  /** A read's bytes are about to be taken. */
  readStarts(): void {
    this.takenThisRead = 0;
  }

  /** `count` requests were answered on the thread. */
  answered(count: number): void {
    this.takenThisRead += count;
    this.counted(count, 0);
  }

  /** `count` requests went to the main thread. */
  sent(count: number): void {
    this.takenThisRead += count;
  }

  /** The main thread ran `count` of the requests sent to it. */
  ranByMainThread(count: number): void {
    this.counted(0, count);
  }

  /**
   * The read is taken: counts it by the requests it brought, and returns whether LONE_READS_MAX
   * reads in a row have now brought one each.
   */
  readEnds(): boolean {
    const taken = this.takenThisRead;
    if (taken > 1) this.loneReads = 0;
    else if (taken === 1) this.loneReads++;
    return this.loneReads >= LONE_READS_MAX;
  }

  /** Whether the main thread ran REMOTE_ALLOWANCE or more of its requests, and more than here. */
  get mostlyForMain(): boolean {
    return this.ranByMain >= REMOTE_ALLOWANCE && this.ranByMain > this.answeredHere;
  }

  private counted(here: number, byMain: number): void {
    this.answeredHere += here;
    this.ranByMain += byMain;
    if (this.answeredHere + this.ranByMain >= COUNT_WINDOW) {
      this.answeredHere >>>= 1;
      this.ranByMain >>>= 1;
    }
  }
}
