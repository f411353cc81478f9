// Owns one thread's read access to segment files, cached by segment handle: a read-only fd per
// segment and, in read mode 'mmap', a read-only memory map of it, so a record read is a memory
// copy instead of a pread system call. Each thread opens and maps its own (DESIGN §4): Node
// closes a worker's fds when it exits, and fd numbers are reused, so fds are never shared.
//
// A map may reach past the end of its file (the active segment grows into it); touching a page
// past the end would raise SIGBUS, so every read is checked against the file size this thread
// last saw, and the size is read again (fstat) only when a read reaches beyond it.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { KvError } from './errors.js';
import { fileMaps, mapCrc32c } from './file-map.js';
import { segmentFileName, sortedSegmentFileName } from './format.js';
import type { IndexTable } from './index-table.js';

/** How records are read: memory-mapped segments (the default where the addon is built) or pread. */
export type ReadMode = 'mmap' | 'pread';

/** A map covers whole multiples of this, so the growing active segment is seldom remapped. */
export const MAP_CHUNK_BYTES = 64 * 1024 * 1024;

/** The largest pread scratch buffer kept between reads. */
const MAX_KEPT_SCRATCH_BYTES = 1024 * 1024;

/** Per-thread cache: handle -> (segment id it was opened for, fd, map, size seen). */
export class SegmentFds {
  private readonly fds: (number | undefined)[] = [];
  private readonly ids: (number | undefined)[] = [];
  private readonly maps: (Uint8Array | undefined)[] = [];
  /** Each map's id for `crc32cOfMap` (crc32c.ts), or -1 where the addon gives none. */
  private readonly mapIds: number[] = [];
  /** Bytes of each file known to exist (its size at the last fstat); 0 = not checked yet. */
  private readonly sizes: number[] = [];
  /** Handles whose file could not be mapped (mmap failed): read with pread until reopened. */
  private readonly unmappable: boolean[] = [];
  /** The index's segment epoch when we last checked our fds against the handle table. */
  private epoch: number;
  private scratch = new Uint8Array(4096);
  /** Where the bytes `view` returned start. */
  viewAt = 0;
  /**
   * The map id (`crc32cOfMap`) of the array `view` returned, or -1 when that was the pread
   * scratch buffer or the map has none: checksums of its records need no argument conversion.
   */
  viewMapId = -1;

  /**
   * `readMode` 'mmap' needs the native addon (`fileMaps`); throws `KV_INVALID_ARGUMENT` without
   * it. `mapChunkBytes` is for tests that need a remap without writing 64 MiB.
   */
  constructor(
    private readonly dir: string,
    private readonly index: IndexTable,
    readonly readMode: ReadMode = 'pread',
    private readonly mapChunkBytes = MAP_CHUNK_BYTES,
  ) {
    if (readMode === 'mmap' && !fileMaps) {
      throw new KvError('KV_INVALID_ARGUMENT', "readMode 'mmap' needs kvd's native addon");
    }
    this.epoch = index.segments.epoch;
  }

  /**
   * The fd for the segment a handle names now. If the handle was reused for another segment
   * since we opened it, the stale fd is closed and the new file opened. Throws `KV_IO`.
   */
  fdFor(handle: number): number {
    if (this.index.segments.epoch !== this.epoch) this.closeRetired();
    const id = this.index.segments.idOf(handle);
    const cached = this.fds[handle];
    if (cached !== undefined && this.ids[handle] === id) return cached;
    this.closeHandle(handle);
    if (id === 0) throw new KvError('KV_INTERNAL', `segment handle ${handle} is not in use`);
    let fd: number;
    const name = this.nameOf(handle);
    try {
      fd = openSync(join(this.dir, name), 'r');
    } catch (error) {
      throw new KvError('KV_IO', `cannot open segment ${name}: ${String(error)}`);
    }
    this.fds[handle] = fd;
    this.ids[handle] = id;
    this.sizes[handle] = 0;
    return fd;
  }

  /**
   * The `length` bytes at `offset` of the segment `handle` names: returns the array that holds
   * them, from index `viewAt` on. That is the segment's map ('mmap') or this object's scratch
   * buffer ('pread'), so the bytes are valid only until this object's next call: copy what you
   * keep. Throws `KV_CORRUPTION` if the file ends first, `KV_IO` on a read error.
   */
  view(handle: number, offset: number, length: number): Uint8Array {
    const fd = this.fdFor(handle);
    if (this.readMode === 'mmap' && length > 0 && !this.unmappable[handle]) {
      const map = this.mapCovering(handle, fd, offset, length);
      if (map !== undefined) {
        this.viewAt = offset;
        this.viewMapId = this.mapIds[handle]!;
        return map;
      }
    }
    let scratch = this.scratch;
    if (scratch.length < length) {
      scratch = new Uint8Array(Math.max(length, 2 * scratch.length));
      // Keep a grown scratch buffer only while it is small; a huge value gets its own.
      if (scratch.length <= MAX_KEPT_SCRATCH_BYTES) this.scratch = scratch;
    }
    this.preadFully(handle, fd, scratch, length, offset);
    this.viewAt = 0;
    this.viewMapId = -1;
    return scratch;
  }

  /** File name of the segment a handle names (for error messages). */
  nameOf(handle: number): string {
    const id = this.index.segments.idOf(handle);
    return this.index.segments.isSorted(handle) ? sortedSegmentFileName(id) : segmentFileName(id);
  }

  /** Unmaps and closes what is cached for `handle`, if anything. */
  closeHandle(handle: number): void {
    const map = this.maps[handle];
    if (map !== undefined) {
      fileMaps?.unmap(map.buffer as ArrayBuffer);
      this.maps[handle] = undefined;
      this.mapIds[handle] = -1;
    }
    const fd = this.fds[handle];
    if (fd !== undefined) {
      closeSync(fd);
      this.fds[handle] = undefined;
      this.ids[handle] = undefined;
      this.sizes[handle] = 0;
      this.unmappable[handle] = false;
    }
  }

  /** Closes the fds of retired segments now, if any segment was retired since the last check. */
  sweep(): void {
    if (this.index.segments.epoch !== this.epoch) this.closeRetired();
  }

  /** Unmaps and closes everything cached. */
  closeAll(): void {
    for (let h = 0; h < this.fds.length; h++) if (this.fds[h] !== undefined) this.closeHandle(h);
  }

  /**
   * Closes the fds (and maps) of segments compaction retired since the last check, so their
   * files' space is freed (an open fd or a map keeps an unlinked file on disk).
   */
  private closeRetired(): void {
    this.epoch = this.index.segments.epoch;
    for (let h = 0; h < this.fds.length; h++) {
      if (this.fds[h] !== undefined && this.ids[h] !== this.index.segments.idOf(h))
        this.closeHandle(h);
    }
  }

  /**
   * The map of `handle`'s segment, (re)made if it does not reach `offset + length`; undefined if
   * the file cannot be mapped (mmap failed, say at the process's map count limit): that handle
   * is then read with pread. Throws `KV_CORRUPTION` past the file's end, `KV_IO`.
   */
  private mapCovering(
    handle: number,
    fd: number,
    offset: number,
    length: number,
  ): Uint8Array | undefined {
    const end = offset + length;
    if (end > this.sizes[handle]!) {
      let size: number;
      try {
        size = fstatSync(fd).size;
      } catch (error) {
        throw new KvError('KV_IO', `cannot stat ${this.nameOf(handle)}: ${String(error)}`);
      }
      this.sizes[handle] = size;
      if (end > size) throw this.endsEarly(handle, offset, length);
    }
    let map = this.maps[handle];
    if (map === undefined || end > map.length) {
      if (map !== undefined) fileMaps!.unmap(map.buffer as ArrayBuffer);
      this.maps[handle] = undefined;
      const chunk = this.mapChunkBytes;
      const mapLength = Math.ceil(Math.max(end, this.sizes[handle]!) / chunk) * chunk;
      try {
        map = new Uint8Array(fileMaps!.map(fd, mapLength));
      } catch {
        this.unmappable[handle] = true;
        return undefined;
      }
      this.maps[handle] = map;
      this.mapIds[handle] = mapCrc32c?.mapId(map.buffer as ArrayBuffer) ?? -1;
    }
    return map;
  }

  private preadFully(
    handle: number,
    fd: number,
    buffer: Uint8Array,
    length: number,
    offset: number,
  ): void {
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(fd, buffer, done, length - done, offset + done);
      } catch (error) {
        throw new KvError('KV_IO', `read of ${this.nameOf(handle)} failed: ${String(error)}`);
      }
      if (n === 0) throw this.endsEarly(handle, offset, length);
      done += n;
    }
  }

  private endsEarly(handle: number, offset: number, length: number): KvError {
    return new KvError(
      'KV_CORRUPTION',
      `${this.nameOf(handle)} ends before the record at offset ${offset} (${length} bytes)`,
    );
  }
}
