// Owns the writer's view of the segment files: which exist, their handles in the shared index,
// their sizes and live/dead accounting, and creating a new segment file durably. Writer only.

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, segmentFileName } from '../shared/format.js';
import { type IndexTable, MAX_SEGMENT_HANDLES, type SlotLocation } from '../shared/index-table.js';
import type { SegmentStats } from '../shared/messages.js';

/** One segment as the writer tracks it. */
export interface Segment {
  readonly id: number;
  readonly handle: number;
  size: number;
  liveBytes: number;
  liveKeys: number;
}

/** The writer's table of segments, keyed by handle and by id. */
export class SegmentTable {
  private readonly byHandle: (Segment | undefined)[] = [];
  private readonly byId = new Map<number, Segment>();
  private nextHandle = 1; // handle 0 is never used, so a zeroed slot cannot name a segment

  constructor(
    readonly dir: string,
    private readonly index: IndexTable,
  ) {}

  /** Registers an existing segment file of `size` bytes and gives it a handle. */
  add(id: number, size: number): Segment {
    const handle = this.allocateHandle();
    const segment: Segment = { id, handle, size, liveBytes: 0, liveKeys: 0 };
    this.byHandle[handle] = segment;
    this.byId.set(id, segment);
    this.index.writerSetHandle(handle, id);
    return segment;
  }

  /** Creates segment file `id` with its header, fsyncs it and the directory, and registers it. */
  create(id: number): Segment {
    const path = join(this.dir, segmentFileName(id));
    try {
      const fd = openSync(path, 'wx');
      try {
        const header = encodeSegmentHeader(id);
        if (writeSync(fd, header) !== header.length)
          throw new Error('short write of the segment header');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      syncDirectory(this.dir);
    } catch (error) {
      throw ioError(`cannot create segment ${segmentFileName(id)}`, error);
    }
    return this.add(id, SEGMENT_HEADER_BYTES);
  }

  /** The segment a handle names. */
  get(handle: number): Segment {
    const s = this.byHandle[handle];
    if (!s) throw new KvError('KV_INTERNAL', `no segment has handle ${handle}`);
    return s;
  }

  /** All segments, oldest first. */
  list(): Segment[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  /** Accounts a record that the index now points at. */
  addLive(loc: SlotLocation): void {
    const s = this.get(loc.handle);
    s.liveBytes += loc.length;
    s.liveKeys += 1;
  }

  /** Accounts a record the index no longer points at (overwritten or deleted). */
  removeLive(loc: SlotLocation): void {
    const s = this.get(loc.handle);
    s.liveBytes -= loc.length;
    s.liveKeys -= 1;
  }

  /** Per-segment stats; `activeId` marks the one being appended to. */
  stats(activeId: number): SegmentStats[] {
    return this.list().map((s) => ({
      id: s.id,
      bytes: s.size,
      liveBytes: s.liveBytes,
      deadBytes: s.size - SEGMENT_HEADER_BYTES - s.liveBytes,
      liveKeys: s.liveKeys,
      active: s.id === activeId,
    }));
  }

  private allocateHandle(): number {
    for (let n = 0; n < MAX_SEGMENT_HANDLES - 1; n++) {
      const h = this.nextHandle;
      this.nextHandle = h + 1 >= MAX_SEGMENT_HANDLES ? 1 : h + 1;
      if (this.byHandle[h] === undefined) return h;
    }
    throw new KvError('KV_INTERNAL', `more than ${MAX_SEGMENT_HANDLES - 1} live segments`);
  }
}

/** fsyncs a directory so that a file created or renamed in it survives power loss. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
