// Owns telling the network threads whether the machine's cores are busy: the share of time the
// cores this process may run on spent idle over the last second (core-times.ts: the cores its
// affinity allows; not a CPU quota), under CORES_BUSY_IDLE_SHARE, kept in shared memory
// the threads read. A network thread hands a client that waits for each reply to the main thread
// only while the cores are busy (get-connection.ts, LONE_READS_MAX): then each of its wake-ups
// for one request costs more than its core gives (bench/ANALYSIS.md, "Two threads at −P1"); with
// cores to spare, such clients keep their thread.

import { type CoreTimes, machineCoreTimes } from './core-times.js';

/** The cores count as busy while they spent less than this share of their time idle. */
export const CORES_BUSY_IDLE_SHARE = 0.15;

/** How often the cores' idle time is read. */
const SAMPLE_INTERVAL_MS = 1_000;

/** When a network thread hands a client that waits for each reply to the main thread. */
export type LoneClientsHandBack = 'when-cores-busy' | 'always';

/** The share of `after − before` the cores spent idle (1 when no time passed). */
export function idleShare(before: CoreTimes, after: CoreTimes): number {
  const total = after.total - before.total;
  return total > 0 ? (after.idle - before.idle) / total : 1;
}

/** The flag the network threads read (`coresBusy`), kept by a timer. Main thread. */
export class CoreLoad {
  /** One Int32: 1 while the cores are busy (or `'always'`), else 0. */
  readonly shared = new SharedArrayBuffer(4);
  private readonly flag = new Int32Array(this.shared);
  private last: CoreTimes;
  private readonly timer: NodeJS.Timeout | undefined;

  /** `readTimes`: the cores' times so far (tests give their own). */
  constructor(
    mode: LoneClientsHandBack,
    private readonly readTimes: () => CoreTimes = machineCoreTimes(),
  ) {
    this.last = readTimes();
    if (mode === 'always') {
      Atomics.store(this.flag, 0, 1);
      return;
    }
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Reads the cores' times and sets the flag from the share idle since the last reading. */
  sample(): void {
    const now = this.readTimes();
    const busy = idleShare(this.last, now) < CORES_BUSY_IDLE_SHARE;
    this.last = now;
    Atomics.store(this.flag, 0, busy ? 1 : 0);
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** Whether the cores are busy, as `CoreLoad` keeps it in `flag` (any thread). */
export function coresBusy(flag: Int32Array): boolean {
  return Atomics.load(flag, 0) === 1;
}
