// Owns giving the daemon's freed C heap memory back to the system once it is idle: a burst of
// requests leaves glibc's arenas holding the pages of every Buffer freed since (about 60 B per
// key loaded, bench scenario "redis"), which an idle daemon would otherwise keep, and so does a
// background merge (its worker's arena, its moves: ~60 B per key merged). Every IDLE_CHECK_MS
// it looks at an activity count (commands processed, background jobs ended); when it did not
// move since the last look and nothing was trimmed since it last moved, it trims once (native
// addon, `heapTrim`). Main thread.

import type { HeapTrim } from '../../shared/file-map.js';

/** How often the daemon looks for idleness. */
export const IDLE_CHECK_MS = 2_000;

/** Trims once per idle period. */
export class IdleTrim {
  private seen: number;
  private trimmedSinceActivity = true;
  private timer: NodeJS.Timeout | undefined;
  /** Trims done, and those that released memory (INFO memory). */
  trims = 0;
  released = 0;

  /** `commands`: a count of activity so far (commands processed, background jobs ended). */
  constructor(
    private readonly heap: HeapTrim,
    private readonly commands: () => number,
  ) {
    this.seen = commands();
  }

  /** Starts looking every `everyMs` (the timer never keeps the process alive). */
  start(everyMs = IDLE_CHECK_MS): void {
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look: trims if no command came since the last look and none was trimmed since. */
  check(): void {
    const now = this.commands();
    if (now !== this.seen) {
      this.seen = now;
      this.trimmedSinceActivity = false;
      return;
    }
    if (this.trimmedSinceActivity) return;
    this.trimmedSinceActivity = true;
    this.trims++;
    if (this.heap.trim()) this.released++;
  }
}
