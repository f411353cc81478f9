// Owns the caller thread's open key runs (key-run-format.ts): one reader per segment that has
// a `.keys` file, opened when the writer's published segment state changes (a rotation, a
// hint written, a merge installed) and closed once its segment is gone and no scan holds it.
// A scan acquires the current set and releases it when done, so a merge that retires a
// segment mid-scan never closes a file under it. A data segment's run also opens the segment
// itself (`NNNNNN.sst`) on first use, for scans that take values from its blocks. In read mode
// 'mmap' both files are read through maps of the whole file. Caller's thread.

import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { blockDecompressor } from '../shared/block-compression.js';
import { KvError } from '../shared/errors.js';
import { fileMaps } from '../shared/file-map.js';
import { type IndexTable, MAX_SEGMENT_HANDLES } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import { sortedSegmentFileName } from '../shared/segment-header-format.js';
import {
  type BlockDecompressor,
  isSortedFailure,
  sortedCorruption,
} from '../shared/sorted-format.js';
import { openSortedSegment, type SortedSegmentSource } from '../shared/sorted-segment-reader.js';
import type { SortedFile } from './sorted-file-cursor.js';

/** One open key run. */
export interface KeyRun extends SortedFile {
  /** The segment's id and its handle in the index (the `handle` of its keys' slots). */
  readonly segmentId: number;
  readonly handle: number;
  /**
   * The data segment itself (`NNNNNN.sst`), opened on first call; undefined if the segment is a
   * log segment, or if its file is already gone (a merge retired it: the scan then reads values
   * through the index). Throws `KV_CORRUPTION` if its footer, index, filter or properties cannot
   * be trusted, `KV_IO`.
   */
  data(): SortedFile | undefined;
}

/** A sorted file open for reading: through its fd (pread), or its memory map. */
interface OpenFile extends SortedFile {
  closed: boolean;
  readonly fd: number;
  readonly map: ArrayBuffer | undefined;
}

interface OpenRun extends KeyRun {
  readonly own: OpenFile;
  holders: number;
  gone: boolean;
  /** The data segment, once opened. */
  openData: OpenFile | undefined;
}

/** The key runs of the segments the index lists now. See the file comment. */
export class KeyRuns {
  private readonly runs = new Map<number, OpenRun>();
  private seenVersion = -1;
  private closed = false;

  /**
   * With `mapFiles` (read mode 'mmap' and the addon loaded), key runs and data segments are read
   * through a memory map of the whole file (a sealed file never changes); else with pread, a
   * block a call.
   */
  constructor(
    private readonly dir: string,
    private readonly index: IndexTable,
    private readonly mapFiles = false,
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
    const listed = new Map<number, number>();
    const active = this.index.activeSegmentId;
    for (let handle = 1; handle < MAX_SEGMENT_HANDLES; handle++) {
      const id = this.index.segments.idOf(handle);
      if (id !== 0 && id !== active) listed.set(id, handle);
    }
    for (const run of this.runs.values()) {
      if (listed.has(run.segmentId)) continue;
      run.gone = true;
      if (run.holders === 0) this.closeRun(run);
    }
    for (const [id, handle] of listed) {
      if (this.runs.has(id)) continue;
      const run = this.open(id, handle);
      if (run) this.runs.set(id, run);
    }
  }

  /**
   * Opens segment `id`'s run, or returns undefined if it has none: a segment whose hint job
   * has not run yet (its keys are in the memtable), or one a merge is retiring (its keys are
   * in the merged segment's run, already listed).
   */
  private open(id: number, handle: number): OpenRun | undefined {
    const own = this.openFile(keysFileName(id), blockDecompressor);
    if (own === undefined) return undefined;
    const sorted = this.index.segments.isSorted(handle);
    let data: SortedFile | undefined | null = sorted ? null : undefined;
    const run: OpenRun = {
      segmentId: id,
      handle,
      file: own.file,
      reader: own.reader,
      get closed() {
        return own.closed;
      },
      own,
      holders: 0,
      gone: false,
      openData: undefined,
      data: () => {
        if (data === null) {
          if (this.closed) throw new KvError('KV_CLOSED', 'the store is closed');
          run.openData = this.openFile(sortedSegmentFileName(id), undefined);
          data = run.openData;
        }
        return data;
      },
    };
    return run;
  }

  /**
   * Opens the sorted file `file` (mapped if `mapFiles`), or returns undefined if it does not
   * exist. Throws `KV_CORRUPTION` if it cannot be trusted, `KV_IO`.
   */
  private openFile(
    file: string,
    decompressor: BlockDecompressor | undefined,
  ): OpenFile | undefined {
    let fd: number;
    try {
      fd = openSync(join(this.dir, file), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KvError('KV_IO', `cannot open ${file}: ${String(error)}`);
    }
    let map: ArrayBuffer | undefined;
    try {
      const size = fstatSync(fd).size;
      if (this.mapFiles && fileMaps && size > 0) map = fileMaps.map(fd, size);
      const source = map ? Buffer.from(map, 0, size) : fileSource(fd, size);
      const reader = openSortedSegment(source, { decompressor });
      if (isSortedFailure(reader)) throw sortedCorruption(reader, file);
      return { file, reader, closed: false, fd, map };
    } catch (error) {
      if (map) fileMaps?.unmap(map);
      closeSync(fd);
      throw error;
    }
  }

  private closeRun(run: OpenRun): void {
    if (this.runs.get(run.segmentId) === run) this.runs.delete(run.segmentId);
    for (const file of [run.own, run.openData]) {
      if (file === undefined || file.closed) continue;
      file.closed = true;
      if (file.map) fileMaps?.unmap(file.map);
      try {
        closeSync(file.fd);
      } catch {
        // already closed
      }
    }
  }
}

/** A sorted file's bytes read from `fd` (each read a fresh buffer). */
function fileSource(fd: number, size: number): SortedSegmentSource {
  return {
    size,
    read(offset, length) {
      const bytes = Buffer.allocUnsafe(length);
      const n = readSync(fd, bytes, 0, length, offset);
      return bytes.subarray(0, n);
    },
  };
}
