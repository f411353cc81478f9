// Owns running a thread's queued items at one later point (a microtask, the turn's end): each
// item queued before then, and those queued while they run, once each, in order, from one
// scheduled call; one that throws does not keep the rest from running (they run from the next
// call, and the error goes on). The pump queue and the turn's-end sends are two of these.

/** Items run together at the point `schedule` picks. Main thread or a network thread. */
export class RunQueue<T> {
  /** Items waiting, in order; `head` is the next to run. Scheduled exactly while not empty. */
  private items: T[] = [];
  private head = 0;

  constructor(
    /** Has `run` called once at the later point (`queueMicrotask`, `setImmediate`). */
    private readonly schedule: (run: () => void) => void,
    private readonly runItem: (item: T) => void,
  ) {}

  /** Runs `item` at the scheduled point, after those queued before it. */
  add(item: T): void {
    if (this.items.push(item) === 1) this.schedule(this.run);
  }

  private readonly run = (): void => {
    try {
      while (this.head < this.items.length) this.runItem(this.items[this.head++]!);
    } finally {
      if (this.head < this.items.length) this.schedule(this.run);
      else {
        this.items = [];
        this.head = 0;
      }
    }
  };
}
