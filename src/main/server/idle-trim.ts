// Owns giving the daemon's freed memory back to the system once it is idle. A burst of requests
// leaves glibc's arenas holding the pages of every Buffer freed since (about 60 B per key loaded,
// bench scenario "redis"), which an idle daemon would otherwise keep, and so does a background
// merge (its worker's arena, its moves: ~60 B per key merged). V8 keeps the main thread's heap at
// its busy size too (a grown young generation, emptied old-space pages: 8–15 MiB after the
// bench's loads) until its own memory reducer judges the thread idle, which took from 15 s to
// over a minute. Every IDLE_CHECK_MS it looks at an activity count (commands processed,
// background jobs ended). At the first look that finds it unmoved it trims the C heap once
// (native addon, `heapTrim`); once it has stayed unmoved for COLLECT_AFTER_IDLE_MS it runs one
// full garbage collection, if the process exposes one (`--expose-gc`, as `npm start` and the
// binary's `#!` line pass), and trims again at the next look. Main thread.

import type { HeapTrim } from '../../shared/file-map.js';

/** How often the daemon looks for idleness. */
export const IDLE_CHECK_MS = 2_000;
/**
 * Idleness before the full collection. V8 shrinks the young generation at a full collection only
 * when the thread allocated under ~1 MB/s over the last 5 s; 10 s after a burst it has.
 */
export const COLLECT_AFTER_IDLE_MS = 10_000;

/** Trims once per idle period, and collects once per long idle period. */
export class IdleTrim {
  private seen: number;
  /** Looks in a row that found no activity. */
  private idleLooks = 0;
  private trimmedSinceActivity = true;
  private collectedSinceActivity = true;
  private lookEveryMs = IDLE_CHECK_MS;
  private timer: NodeJS.Timeout | undefined;
  /** Trims done, and those that released memory (INFO memory). */
  trims = 0;
  released = 0;
  /** Full collections done (INFO memory). */
  collections = 0;

  /**
   * `heap`: the C heap's trim (native addon), if built.
   * `activity`: a count of activity so far (commands processed, background jobs ended).
   * `collect`: a full garbage collection of this thread's heap (`globalThis.gc`), if exposed.
   */
  constructor(
    private readonly heap: HeapTrim | undefined,
    private readonly activity: () => number,
    private readonly collect?: () => void,
  ) {
    this.seen = activity();
  }

  /** Starts looking every `everyMs` (the timer never keeps the process alive). */
  start(everyMs = IDLE_CHECK_MS): void {
    this.lookEveryMs = everyMs;
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One look: trims if nothing happened since the last look and nothing was trimmed since; runs
   * the collection once nothing has happened for COLLECT_AFTER_IDLE_MS of looks (its trim follows
   * at the next look).
   */
  check(): void {
    const now = this.activity();
    if (now !== this.seen) {
      this.seen = now;
      this.idleLooks = 0;
      this.trimmedSinceActivity = false;
      this.collectedSinceActivity = false;
      return;
    }
    this.idleLooks++;
    if (!this.trimmedSinceActivity) {
      this.trimmedSinceActivity = true;
      this.trim();
    }
    if (
      this.collect !== undefined &&
      !this.collectedSinceActivity &&
      this.idleLooks * this.lookEveryMs >= COLLECT_AFTER_IDLE_MS
    ) {
      this.collectedSinceActivity = true;
      this.collections++;
      this.collect();
      // V8 frees dead ArrayBuffers' memory on a helper thread after the collection: the C heap
      // it gives back is trimmed at the next look, not now.
      this.trimmedSinceActivity = false;
    }
  }

  private trim(): void {
    if (this.heap === undefined) return;
    this.trims++;
    if (this.heap.trim()) this.released++;
  }
}
