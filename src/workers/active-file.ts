// Owns the open file of the active segment: its append fd, the zeros preallocated ahead of the
// data under `always`, and which writes are known to be on disk (sync, background sync, seal,
// close). The log writer decides what to write and when; this file only does the file I/O.
// Writer thread only.

import type { Logger } from '../shared/logger.js';
import { type FileSystem, writeAllv } from './file-system.js';

/** Step of preallocation under `always` (zeros written ahead of the data). */
const PREALLOCATE_BYTES = 1024 * 1024;
const ZEROS = new Uint8Array(PREALLOCATE_BYTES);

/**
 * The open append fd of one segment while it is active: writes at a position, preallocates
 * zeros ahead of the data under `always`, fdatasyncs (in line, or on the libuv pool for
 * `everysec`) only when some write is not yet known to be on disk, and trims the zeros and
 * closes the fd at seal or close. Methods throw Node.js I/O errors as they are (the log writer
 * turns them into `KvError`s); a failed preallocation is logged and given up instead. Writer
 * thread only.
 */
export class ActiveFile {
  private fd: number;
  /** Bytes of the file that exist on disk (data, then preallocated zeros). */
  private allocatedEnd: number;
  /** False after a preallocation failed (no room): this file appends without it. */
  private preallocating = true;
  /** End of the data written so far; `syncedEnd`: how much of it is known to be on disk. */
  private dataEnd: number;
  private synced: number;
  private backgroundSyncs = 0;

  /**
   * Opens the segment file at `path` for appending through `files`. Its data ends at
   * `dataEnd`, of which the first `syncedEnd` bytes are known to be on stable storage.
   * Throws the I/O error.
   */
  constructor(
    private readonly files: FileSystem,
    private readonly path: string,
    private readonly log: Logger,
    dataEnd: number,
    syncedEnd: number,
  ) {
    this.fd = files.open(path, 'r+');
    this.allocatedEnd = files.size(this.fd);
    this.dataEnd = dataEnd;
    this.synced = Math.min(syncedEnd, dataEnd);
  }

  /** Bytes of the file known to be on stable storage (an fdatasync covering them returned). */
  get syncedEnd(): number {
    return this.synced;
  }

  /** Writes `iov` at `position` (all of it, retrying short writes). Throws the I/O error. */
  write(iov: Uint8Array[], position: number): void {
    writeAllv(this.files, this.fd, iov, position);
    let end = position;
    for (const chunk of iov) end += chunk.length;
    if (end > this.dataEnd) this.dataEnd = end;
  }

  /**
   * Makes sure the file already extends past `end` by writing zeros ahead in 1 MiB steps: an
   * fdatasync that need not also commit a new file size is about 3x faster on ext4 (bench
   * scenario "always", preallocated vs append). Recovery treats a zero tail as unused space.
   * If there is no room for the zeros, they are cut back to `dataEnd` and the file appends
   * without them: an optimisation must never refuse a write that fits.
   */
  preallocate(end: number, dataEnd: number): void {
    if (end <= this.allocatedEnd || !this.preallocating) return;
    const target = Math.ceil(end / PREALLOCATE_BYTES) * PREALLOCATE_BYTES;
    try {
      for (let at = this.allocatedEnd; at < target; at += PREALLOCATE_BYTES) {
        writeAllv(
          this.files,
          this.fd,
          [ZEROS.subarray(0, Math.min(PREALLOCATE_BYTES, target - at))],
          at,
        );
      }
      this.allocatedEnd = target;
    } catch (error) {
      this.files.ftruncate(this.fd, dataEnd);
      this.allocatedEnd = dataEnd;
      this.preallocating = false;
      this.log.warn({ err: error, file: this.path }, 'preallocation failed; appending without it');
    }
  }

  /** Truncates the file to `size` (a failed write's bytes, or preallocated zeros). Throws. */
  cutBack(size: number): void {
    this.files.ftruncate(this.fd, size);
    this.allocatedEnd = size;
    if (this.dataEnd > size) this.dataEnd = size;
    if (this.synced > size) this.synced = size;
  }

  /** fdatasyncs if any write is not known to be on disk; returns whether it synced. Throws. */
  sync(): boolean {
    if (this.synced >= this.dataEnd) return false;
    const target = this.dataEnd;
    this.files.fdatasync(this.fd);
    this.synced = target;
    return true;
  }

  /**
   * Starts an fdatasync on the libuv pool through an fd owned by this call, so a seal or close
   * of the append fd meanwhile cannot make it sync a reused fd number. `done` gets its outcome.
   * Does nothing if everything is synced or a background sync is already running.
   */
  syncInBackground(done: (error: Error | null) => void): void {
    if (this.synced >= this.dataEnd || this.backgroundSyncs > 0) return;
    const target = this.dataEnd;
    let fd: number;
    try {
      fd = this.files.open(this.path, 'r');
    } catch (error) {
      this.log.error(
        { err: error, file: this.path },
        'cannot open the active segment for a background sync',
      );
      return;
    }
    this.backgroundSyncs++;
    this.files.fdatasyncInBackground(fd, (error) => {
      this.backgroundSyncs--;
      this.files.close(fd);
      if (!error) this.synced = Math.max(this.synced, target);
      done(error);
    });
  }

  /** Trims preallocated zeros down to `dataEnd`, syncs and closes: the segment is sealed. Throws. */
  seal(dataEnd: number): void {
    if (this.allocatedEnd > dataEnd) this.cutBack(dataEnd);
    this.files.fdatasync(this.fd);
    this.synced = this.dataEnd;
    this.closeFd();
  }

  /** Like `seal`, but syncs only if something is unsynced (a clean close). Throws. */
  close(dataEnd: number): void {
    if (this.fd < 0) return;
    try {
      const trimmed = this.allocatedEnd > dataEnd;
      if (trimmed) this.cutBack(dataEnd);
      if (trimmed || this.synced < this.dataEnd) this.files.fdatasync(this.fd);
    } finally {
      this.closeFd();
    }
  }

  private closeFd(): void {
    const fd = this.fd;
    this.fd = -1; // never close or write through a number the OS may reuse
    this.files.close(fd);
  }
}
