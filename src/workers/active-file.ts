// Owns the open file of the active segment: its append fd, the zeros preallocated ahead of the
// data under `always`, which writes are known to be on disk (sync, background sync, seal,
// close), and the sync marks that record it in the segment (FORMAT.md, "Sync marks"); it times
// every fdatasync it makes. The log writer decides what to write and when; this file only does
// the file I/O. Writer thread only.

import { encodeSyncMark, SEGMENT_HEADER_BYTES, SYNC_MARK_BYTES } from '../shared/format.js';
import type { LatencyHistogram } from '../shared/latency-histogram.js';
import type { Logger } from '../shared/logger.js';
import { type FileSystem, writeAllv } from './file-system.js';

/** How much of a segment recovery knew to be synced (continues its sync marks). */
export interface ActiveSyncState {
  /** The largest synced byte count a sync mark (or the snapshot's resume point) stated. */
  readonly syncedThrough: number;
  /** End of a final sync mark covering every byte before it, if the segment ends in one. */
  readonly fullMarkEnd: number;
}

/** The sync state of a segment just created: its header is synced, nothing needs a mark. */
export const NEW_SEGMENT_SYNC: ActiveSyncState = {
  syncedThrough: SEGMENT_HEADER_BYTES,
  fullMarkEnd: 0,
};

/** A sync mark to write ahead of an append: its bytes and the synced byte count it states. */
export interface PendingMark {
  readonly bytes: Uint8Array;
  readonly claim: number;
}

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
   * The synced byte count the segment's last sync mark states, and the end of its last mark if
   * that mark covers every byte before it.
   */
  private markedThrough: number;
  private fullMarkEnd: number;

  /**
   * Opens the segment file at `path` for appending through `files`. Its data ends at
   * `dataEnd`; `sync` says how much of it is known to be on stable storage. Each fdatasync's
   * duration is recorded in `syncTimes`, if given. Throws the I/O error.
   */
  constructor(
    private readonly files: FileSystem,
    private readonly path: string,
    private readonly log: Logger,
    dataEnd: number,
    sync: ActiveSyncState,
    private readonly syncTimes?: LatencyHistogram,
  ) {
    this.fd = files.open(path, 'r+');
    this.allocatedEnd = files.size(this.fd);
    this.dataEnd = dataEnd;
    this.markedThrough = Math.max(sync.syncedThrough, SEGMENT_HEADER_BYTES);
    this.fullMarkEnd = sync.fullMarkEnd;
    this.synced = Math.min(this.markedThrough, dataEnd);
  }

  /**
   * The sync mark (with sequence number `seq`) to write ahead of the next append, if a sync has
   * covered more of the segment than its last mark says; it becomes durable with the next
   * sync. Call `marked` once it is written.
   */
  pendingMark(seq: number): PendingMark | undefined {
    const claim = this.synced;
    return claim > this.markedThrough ? { bytes: encodeSyncMark(seq, claim), claim } : undefined;
  }

  /** Records that a mark stating `claim` synced bytes was written. */
  marked(claim: number): void {
    this.markedThrough = claim;
  }

  /** Whether the segment's data, `dataEnd` bytes, needs a final mark (see `writeFinalMark`). */
  needsFinalMark(dataEnd: number): boolean {
    return dataEnd !== this.fullMarkEnd && dataEnd > SEGMENT_HEADER_BYTES;
  }

  /**
   * Makes every byte up to `dataEnd` durable and records that with a sync mark at `dataEnd`
   * (sequence number `seq`), itself synced: a clean close or a seal leaves a segment whose
   * every byte a mark covers, so recovery treats any damage in it as damage. The mark is
   * written only after the sync it reports has returned. Returns the new data end. Throws.
   */
  writeFinalMark(dataEnd: number, seq: number): number {
    this.sync();
    this.write([encodeSyncMark(seq, dataEnd)], dataEnd);
    this.sync();
    this.markedThrough = dataEnd;
    this.fullMarkEnd = dataEnd + SYNC_MARK_BYTES;
    return this.fullMarkEnd;
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
    this.fdatasync();
    this.synced = target;
    return true;
  }

  /** fdatasyncs the append fd and records how long it took. Throws the I/O error. */
  private fdatasync(): void {
    const started = performance.now();
    this.files.fdatasync(this.fd);
    this.syncTimes?.record((performance.now() - started) / 1000);
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
    const started = performance.now(); // so the time includes the wait for a libuv thread
    this.files.fdatasyncInBackground(fd, (error) => {
      this.backgroundSyncs--;
      this.files.close(fd);
      if (!error) {
        this.synced = Math.max(this.synced, target);
        this.syncTimes?.record((performance.now() - started) / 1000);
      }
      done(error);
    });
  }

  /** Trims preallocated zeros down to `dataEnd`, syncs and closes: the segment is sealed. Throws. */
  seal(dataEnd: number): void {
    if (this.allocatedEnd > dataEnd) this.cutBack(dataEnd);
    this.fdatasync();
    this.synced = this.dataEnd;
    this.closeFd();
  }

  /** Like `seal`, but syncs only if something is unsynced (a clean close). Throws. */
  close(dataEnd: number): void {
    if (this.fd < 0) return;
    try {
      const trimmed = this.allocatedEnd > dataEnd;
      if (trimmed) this.cutBack(dataEnd);
      if (trimmed || this.synced < this.dataEnd) this.fdatasync();
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
