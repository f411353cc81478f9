// Owns the writer's view of the segment files: which exist, their handles in the shared index,
// their sizes and live/dead/tombstone accounting (a live record whose expiry has passed counts
// as dead), creating a new log segment durably, and retiring segments that compaction
// replaced. Writer only.

import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import {
  dataFileName,
  encodeSegmentHeader,
  KIND_LOG,
  KIND_SORTED,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  segmentFileName,
} from '../shared/format.js';
import { type IndexTable, MAX_SEGMENT_HANDLES, type SlotLocation } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import type { SegmentStats } from '../shared/messages.js';
import { type FileSystem, nodeFileSystem, writeAll } from './file-system.js';

/** Bytes, keys and key bytes of a set of records (expiry accounting). */
export interface MutableTally {
  bytes: number;
  keys: number;
  keyBytes: number;
}

/** One segment as the writer tracks it. */
export interface Segment {
  readonly id: number;
  readonly handle: number;
  readonly kind: SegmentHeader['kind'];
  /** Span of log segment ids whose records it holds (replay order is `first` order). */
  readonly first: number;
  readonly last: number;
  size: number;
  /**
   * Bytes in no record: a log segment's header; a data segment's block framing, index, filter,
   * properties and footer. Neither live nor dead.
   */
  overhead: number;
  liveBytes: number;
  liveKeys: number;
  /** Bytes of tombstones: dead, but only a merge that includes every older segment may drop them. */
  tombstoneBytes: number;
  /** Whether its hint file exists (sealed and merged segments). */
  hinted: boolean;
  /**
   * Live records (the index points at them) whose expiry had passed at the last sweep: dead
   * bytes, though the index still holds them until a merge or a read removes them.
   */
  readonly expired: MutableTally;
  /** Live records that expire later, by the second their expiry falls in (ceil(ms / 1000)). */
  readonly expiring: Map<number, MutableTally>;
}

const MS_PER_SECOND = 1000;

/** The writer's table of segments, keyed by handle and by id. */
export class SegmentTable {
  private readonly byHandle: (Segment | undefined)[] = [];
  private readonly byId = new Map<number, Segment>();
  private nextHandle = 1; // handle 0 is never used, so a zeroed slot cannot name a segment
  /** The id the next new segment file gets: ids are never reused. */
  private nextId = 1;
  /**
   * Expiring records of every second up to this time (ms) have been moved to `expired`: a
   * record of second `s` counts as expired exactly when s × 1000 ≤ sweptAt.
   */
  private sweptTo = 0;

  /** `files`: the file layer every writer-side operation on `dir` goes through. */
  constructor(
    readonly dir: string,
    private readonly index: IndexTable,
    readonly files: FileSystem = nodeFileSystem,
  ) {}

  /**
   * Registers an existing segment file of `size` bytes and gives it a handle (or the handle an
   * index snapshot recorded for it). `overhead`: its bytes in no record (default: a log
   * segment's header).
   */
  add(
    header: SegmentHeader,
    size: number,
    handle = this.allocateHandle(),
    overhead = SEGMENT_HEADER_BYTES,
  ): Segment {
    if (this.byHandle[handle]) throw new KvError('KV_INTERNAL', `handle ${handle} is in use`);
    const { id, kind, first, last } = header;
    const segment: Segment = {
      id,
      handle,
      kind,
      first,
      last,
      size,
      overhead,
      liveBytes: 0,
      liveKeys: 0,
      tombstoneBytes: 0,
      hinted: false,
      expired: { bytes: 0, keys: 0, keyBytes: 0 },
      expiring: new Map(),
    };
    this.byHandle[handle] = segment;
    this.byId.set(id, segment);
    this.noteId(id);
    this.index.segments.writerSet(handle, id, kind === KIND_SORTED);
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
    this.index.segments.writerSet(segment.handle, 0);
  }

  /** Creates log segment file `id` with its header, fsyncs it and the directory, and registers it. */
  create(id = this.takeId()): Segment {
    const path = join(this.dir, segmentFileName(id));
    try {
      const files = this.files;
      const fd = files.open(path, 'wx');
      try {
        writeAll(files, fd, encodeSegmentHeader(id), 0);
        files.fsync(fd);
      } finally {
        files.close(fd);
      }
      files.syncDirectory(this.dir);
    } catch (error) {
      throw ioError(`cannot create segment ${segmentFileName(id)}`, error);
    }
    return this.add({ id, kind: KIND_LOG, first: id, last: id }, SEGMENT_HEADER_BYTES);
  }

  /** The file name of segment `s` (`.sst` for a data segment, else `.log`). */
  static fileName(s: Pick<Segment, 'id' | 'kind'>): string {
    return dataFileName(s.id, s.kind);
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

  /**
   * Counts a hinted segment whose key run (`.keys`) is missing as unhinted, so the hint job
   * writes both (a store from before key runs, or a crash between the two writes).
   */
  unhintWithoutKeyRuns(): void {
    for (const s of this.byId.values()) {
      if (s.hinted && !this.files.exists(join(this.dir, keysFileName(s.id)))) s.hinted = false;
    }
  }

  /**
   * Publishes in the index which segment is active and through which log segment id every
   * record is in a segment with a key run (the caller's thread drops the keys it remembers
   * from there on). Call after the active segment, a segment's hint or the set of segments
   * changes.
   */
  publishKeyRunState(activeId: number): void {
    let through = activeId - 1;
    for (const s of this.byId.values()) {
      if (!s.hinted && s.id !== activeId && s.first - 1 < through) through = s.first - 1;
    }
    this.index.writerPublishSegmentState(activeId, Math.max(0, through));
  }

  /**
   * Clears data segment `s`'s displaced mark: the caller knows every put entry of it is its
   * key's newest version (segment-handles.ts, allLive). `removeLive` sets it again.
   */
  markAllLive(s: Segment): void {
    this.index.segments.writerMarkAllLive(s.handle);
  }

  /** Accounts a tombstone of `length` bytes written to segment `handle`. */
  addTombstone(handle: number, length: number): void {
    this.get(handle).tombstoneBytes += length;
  }

  /**
   * Accounts a record that the index now points at: `expiresAt` is its expiry (ms since the
   * epoch, 0 = none) and `keyLength` its key's length, for the expiry accounting.
   */
  addLive(loc: SlotLocation, expiresAt = 0, keyLength = 0): void {
    const s = this.get(loc.handle);
    s.liveBytes += loc.length;
    s.liveKeys += 1;
    if (expiresAt !== 0) addTo(this.expiryTally(s, expiresAt, true)!, loc.length, keyLength, 1);
  }

  /** Accounts a record the index no longer points at (overwritten, deleted, moved or dropped). */
  removeLive(loc: SlotLocation, expiresAt = 0, keyLength = 0): void {
    const s = this.get(loc.handle);
    s.liveBytes -= loc.length;
    s.liveKeys -= 1;
    // Before the write's sequence number is published (segment-handles.ts, allLive).
    if (s.kind === KIND_SORTED) this.index.segments.writerMarkDisplaced(loc.handle);
    if (expiresAt === 0) return;
    const second = Math.ceil(expiresAt / MS_PER_SECOND);
    const tally = this.expiryTally(s, expiresAt, false);
    if (!tally) return; // accounted before expiry accounting existed (an older snapshot)
    addTo(tally, -loc.length, -keyLength, -1);
    if (tally !== s.expired && tally.keys === 0) s.expiring.delete(second);
  }

  /** Moves every live record whose expiry second has passed by `now` (ms) to `expired`. */
  sweepExpired(now = Date.now()): void {
    if (now <= this.sweptTo) return;
    this.sweptTo = now;
    for (const s of this.byId.values()) {
      for (const [second, tally] of s.expiring) {
        if (second * MS_PER_SECOND > now) continue;
        addTo(s.expired, tally.bytes, tally.keyBytes, tally.keys);
        s.expiring.delete(second);
      }
    }
  }

  /**
   * Live keys with an expiry (counting expired ones the index still holds, as Redis counts
   * them until it deletes them), and the mean time left of those not yet expired, in ms
   * (measured to the end of each one's expiry second, so at most 1 s over). Sweeps first.
   */
  withExpiry(now = Date.now()): { keys: number; avgTtlMs: number } {
    this.sweepExpired(now);
    let expired = 0;
    let expiring = 0;
    let msLeft = 0;
    for (const s of this.byId.values()) {
      expired += s.expired.keys;
      for (const [second, tally] of s.expiring) {
        expiring += tally.keys;
        msLeft += tally.keys * (second * MS_PER_SECOND - now);
      }
    }
    return { keys: expired + expiring, avgTtlMs: expiring > 0 ? msLeft / expiring : 0 };
  }

  /** The time up to which expiring records were swept (recorded in the index snapshot). */
  get sweptAt(): number {
    return this.sweptTo;
  }

  /** Restores the sweep time an index snapshot recorded. */
  restoreSweptAt(sweptAt: number): void {
    this.sweptTo = sweptAt;
  }

  /**
   * The tally a record expiring at `expiresAt` belongs to in segment `s`: `expired` if its
   * second was swept, else its bucket (created if `create`, else undefined when missing).
   */
  private expiryTally(s: Segment, expiresAt: number, create: boolean): MutableTally | undefined {
    const second = Math.ceil(expiresAt / MS_PER_SECOND);
    if (second * MS_PER_SECOND <= this.sweptTo) return s.expired;
    let tally = s.expiring.get(second);
    if (!tally && create) {
      tally = { bytes: 0, keys: 0, keyBytes: 0 };
      s.expiring.set(second, tally);
    }
    return tally;
  }

  /** Per-segment stats; `activeId` marks the one being appended to. */
  stats(activeId: number): SegmentStats[] {
    return this.list().map((s) => ({
      id: s.id,
      file: SegmentTable.fileName(s),
      bytes: s.size,
      liveBytes: s.liveBytes - s.expired.bytes,
      deadBytes: s.size - s.overhead - s.liveBytes + s.expired.bytes,
      liveKeys: s.liveKeys - s.expired.keys,
      expiredBytes: s.expired.bytes,
      expiredKeys: s.expired.keys,
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

function addTo(t: MutableTally, bytes: number, keyBytes: number, keys: number): void {
  t.bytes += bytes;
  t.keyBytes += keyBytes;
  t.keys += keys;
}
