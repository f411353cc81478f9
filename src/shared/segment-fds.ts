// Owns one thread's read-only file descriptors for segment files, cached by segment handle.
// Each thread opens its own fds (DESIGN §4): Node closes a worker's fds when it exits, and fd
// numbers are reused, so fds are never shared between threads.

import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { KvError } from './errors.js';
import { segmentFileName } from './format.js';
import type { IndexTable } from './index-table.js';

/** Per-thread cache: handle -> (segment id it was opened for, fd). */
export class SegmentFds {
  private readonly fds: (number | undefined)[] = [];
  private readonly ids: (number | undefined)[] = [];
  /** The index's segment epoch when we last checked our fds against the handle table. */
  private epoch: number;

  constructor(
    private readonly dir: string,
    private readonly index: IndexTable,
  ) {
    this.epoch = index.segmentEpoch;
  }

  /**
   * The fd for the segment a handle names now. If the handle was reused for another segment
   * since we opened it, the stale fd is closed and the new file opened. Throws `KV_IO`.
   */
  fdFor(handle: number): number {
    if (this.index.segmentEpoch !== this.epoch) this.closeRetired();
    const id = this.index.segmentIdOf(handle);
    const cached = this.fds[handle];
    if (cached !== undefined && this.ids[handle] === id) return cached;
    this.closeHandle(handle);
    if (id === 0) throw new KvError('KV_INTERNAL', `segment handle ${handle} is not in use`);
    let fd: number;
    try {
      fd = openSync(join(this.dir, segmentFileName(id)), 'r');
    } catch (error) {
      throw new KvError('KV_IO', `cannot open segment ${segmentFileName(id)}: ${String(error)}`);
    }
    this.fds[handle] = fd;
    this.ids[handle] = id;
    return fd;
  }

  /** File name of the segment a handle names (for error messages). */
  nameOf(handle: number): string {
    return segmentFileName(this.index.segmentIdOf(handle));
  }

  /** Closes the fd cached for `handle`, if any. */
  closeHandle(handle: number): void {
    const fd = this.fds[handle];
    if (fd !== undefined) {
      closeSync(fd);
      this.fds[handle] = undefined;
      this.ids[handle] = undefined;
    }
  }

  /** Closes the fds of retired segments now, if any segment was retired since the last check. */
  sweep(): void {
    if (this.index.segmentEpoch !== this.epoch) this.closeRetired();
  }

  /**
   * Closes the fds of segments compaction retired since the last check, so their files' space
   * is freed (an open fd keeps an unlinked file on disk).
   */
  private closeRetired(): void {
    this.epoch = this.index.segmentEpoch;
    for (let h = 0; h < this.fds.length; h++) {
      if (this.fds[h] !== undefined && this.ids[h] !== this.index.segmentIdOf(h))
        this.closeHandle(h);
    }
  }

  /** Closes every cached fd. */
  closeAll(): void {
    for (let h = 0; h < this.fds.length; h++) if (this.fds[h] !== undefined) this.closeHandle(h);
  }
}
