// Owns the caller thread's open key runs (key-run-format.ts): one reader per segment that has
// a `.keys` file, opened when the writer's published segment state changes (a rotation, a
// hint written, a merge installed) and closed once its segment is gone and no scan holds it.
// A scan acquires the current set and releases it when done, so a merge that retires a
// segment mid-scan never closes a file under it. Caller's thread.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { blockDecompressor } from '../shared/block-compression.js';
import { KvError } from '../shared/errors.js';
import { type IndexTable, MAX_SEGMENT_HANDLES } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import { isSortedFailure, sortedCorruption } from '../shared/sorted-format.js';
import { openSortedSegment, type SortedSegmentReader } from '../shared/sorted-segment-reader.js';

/** One open key run. */
export interface KeyRun {
  /** The segment's id, and the run's file name (for errors). */
  readonly segmentId: number;
  readonly file: string;
  readonly reader: SortedSegmentReader;
}

interface OpenRun extends KeyRun {
  readonly fd: number;
  holders: number;
  gone: boolean;
}

/** The key runs of the segments the index lists now. See the file comment. */
export class KeyRuns {
  private readonly runs = new Map<number, OpenRun>();
  private seenVersion = -1;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly index: IndexTable,
  ) {}

  /**
   * The runs of every segment listed now (except the active one, which has none), held until
   * `release`. Throws `KV_CORRUPTION` if a run's file cannot be trusted.
   */
  acquire(): KeyRun[] {
    if (this.closed) throw new KvError('KV_CLOSED', 'the store is closed');
    const version = this.index.segmentStateVersion;
    if (version !== this.seenVersion) {
      this.refresh();
      this.seenVersion = version;
    }
    const held: OpenRun[] = [];
    for (const run of this.runs.values()) {
      if (run.gone) continue;
      run.holders++;
      held.push(run);
    }
    return held;
  }

  /** Releases runs `acquire` returned. */
  release(runs: readonly KeyRun[]): void {
    for (const r of runs) {
      const run = this.runs.get(r.segmentId);
      if (!run || run !== r) continue;
      run.holders--;
      if (run.gone && run.holders === 0) this.closeRun(run);
    }
  }

  /** Closes every run (at store close); scans still holding one see their reads fail. */
  close(): void {
    this.closed = true;
    for (const run of this.runs.values()) this.closeRun(run);
  }

  /** Opens the runs of newly listed segments; marks those of segments gone. */
  private refresh(): void {
    const listed = new Set<number>();
    const active = this.index.activeSegmentId;
    for (let handle = 1; handle < MAX_SEGMENT_HANDLES; handle++) {
      const id = this.index.segmentIdOf(handle);
      if (id !== 0 && id !== active) listed.add(id);
    }
    for (const run of this.runs.values()) {
      if (listed.has(run.segmentId)) continue;
      run.gone = true;
      if (run.holders === 0) this.closeRun(run);
    }
    for (const id of listed) {
      if (this.runs.has(id)) continue;
      const run = this.open(id);
      if (run) this.runs.set(id, run);
    }
  }

  /**
   * Opens segment `id`'s run, or returns undefined if it has none: a segment whose hint job
   * has not run yet (its keys are in the memtable), or one a merge is retiring (its keys are
   * in the merged segment's run, already listed).
   */
  private open(id: number): OpenRun | undefined {
    const file = keysFileName(id);
    let fd: number;
    try {
      fd = openSync(join(this.dir, file), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KvError('KV_IO', `cannot open ${file}: ${String(error)}`);
    }
    try {
      const size = fstatSync(fd).size;
      const source = {
        size,
        read(offset: number, length: number) {
          const bytes = Buffer.allocUnsafe(length);
          const n = readSync(fd, bytes, 0, length, offset);
          return bytes.subarray(0, n);
        },
      };
      const reader = openSortedSegment(source, { decompressor: blockDecompressor });
      if (isSortedFailure(reader)) throw sortedCorruption(reader, file);
      return { segmentId: id, file, reader, fd, holders: 0, gone: false };
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  private closeRun(run: OpenRun): void {
    if (this.runs.get(run.segmentId) === run) this.runs.delete(run.segmentId);
    try {
      closeSync(run.fd);
    } catch {
      // already closed
    }
  }
}
