// Owns the writer's view of the segment files: which exist, their handles in the shared index,
// their sizes and live/dead/tombstone accounting, creating a new log segment durably, and
// retiring segments that compaction replaced. Writer only.

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import {
  encodeSegmentHeader,
  KIND_LOG,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  segmentFileName,
} from '../shared/format.js';
import { type IndexTable, MAX_SEGMENT_HANDLES, type SlotLocation } from '../shared/index-table.js';
import type { SegmentStats } from '../shared/messages.js';
import { syncDirectory } from './durable-file.js';

/** One segment as the writer tracks it. */
export interface Segment {
  readonly id: number;
  readonly handle: number;
  readonly kind: SegmentHeader['kind'];
  /** Span of log segment ids whose records it holds (replay order is `first` order). */
  readonly first: number;
  readonly last: number;
  size: number;
  liveBytes: number;
  liveKeys: number;
  /** Bytes of tombstones: dead, but only a merge that includes every older segment may drop them. */
  tombstoneBytes: number;
  /** Whether its hint file exists (sealed and merged segments). */
  hinted: boolean;
}

/** The writer's table of segments, keyed by handle and by id. */
export class SegmentTable {
  private readonly byHandle: (Segment | undefined)[] = [];
  private readonly byId = new Map<number, Segment>();
  private nextHandle = 1; // handle 0 is never used, so a zeroed slot cannot name a segment
  /** The id the next new segment file gets: ids are never reused. */
  private nextId = 1;

  constructor(
    readonly dir: string,
    private readonly index: IndexTable,
  ) {}

  /**
   * Registers an existing segment file of `size` bytes and gives it a handle (or the handle an
   * index snapshot recorded for it).
   */
  add(header: SegmentHeader, size: number, handle = this.allocateHandle()): Segment {
    if (this.byHandle[handle]) throw new KvError('KV_INTERNAL', `handle ${handle} is in use`);
    const { id, kind, first, last } = header;
    const segment: Segment = {
      id,
      handle,
      kind,
      first,
      last,
      size,
      liveBytes: 0,
      liveKeys: 0,
      tombstoneBytes: 0,
      hinted: false,
    };
    this.byHandle[handle] = segment;
    this.byId.set(id, segment);
    this.noteId(id);
    this.index.writerSetHandle(handle, id);
    return segment;
  }

  /** Declares that segment file `id` exists (or existed): new segments get higher ids. */
  noteId(id: number): void {
    if (id >= this.nextId) this.nextId = id + 1;
  }

  /** Takes the id for a new segment file. */
  takeId(): number {
    return this.nextId++;
  }

  /** The segment with file id `id`, if registered. */
  byFileId(id: number): Segment | undefined {
    return this.byId.get(id);
  }

  /**
   * Forgets a segment compaction replaced: frees its handle in the shared index. The caller
   * holds every stripe's write lock, so no reader is between a lookup and its pread.
   */
  retire(segment: Segment): void {
    this.byHandle[segment.handle] = undefined;
    this.byId.delete(segment.id);
    this.index.writerSetHandle(segment.handle, 0);
  }

  /** Creates log segment file `id` with its header, fsyncs it and the directory, and registers it. */
  create(id = this.takeId()): Segment {
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
    return this.add({ id, kind: KIND_LOG, first: id, last: id }, SEGMENT_HEADER_BYTES);
  }

  /** The segment a handle names. */
  get(handle: number): Segment {
    const s = this.byHandle[handle];
    if (!s) throw new KvError('KV_INTERNAL', `no segment has handle ${handle}`);
    return s;
  }

  /** All segments in replay order (by `first`). */
  list(): Segment[] {
    return [...this.byId.values()].sort((a, b) => a.first - b.first);
  }

  /** Accounts a tombstone of `length` bytes written to segment `handle`. */
  addTombstone(handle: number, length: number): void {
    this.get(handle).tombstoneBytes += length;
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
      tombstoneBytes: s.tombstoneBytes,
      merged: s.kind !== KIND_LOG,
      first: s.first,
      last: s.last,
      hinted: s.hinted,
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
