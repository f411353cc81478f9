// Owns when the writer writes the index snapshot: at close (synchronously, after the log is
// synced and closed), periodically while writes happen (the index copied on the writer's turn,
// the file written on libuv's pool), and on demand (a checkpoint: SAVE); and when the last one
// was written (LASTSAVE). index-snapshot.ts owns taking, writing and restoring one. Writer only.

import type { IndexTable } from '../shared/index-table.js';
import type { Logger } from '../shared/logger.js';
import type { FileSystem } from './file-system.js';
import { takeSnapshot, writeSnapshot, writeSnapshotInBackground } from './index-snapshot.js';
import type { LogWriter } from './log-writer.js';
import { releaseBuffer } from './release-buffer.js';
import type { SegmentTable } from './segments.js';

/** What a snapshot is taken of. */
export interface SnapshotScope {
  readonly index: IndexTable;
  readonly segments: SegmentTable;
  readonly log: LogWriter;
}

/** One store's index snapshots. */
export class WriterSnapshots {
  /** A background snapshot being written. */
  private writing: Promise<void> | undefined;
  /** The sequence number the last snapshot covered (-1: it names segments since retired). */
  private coveredSeq = 0;
  /** When the last snapshot was written (ms since the epoch; 0: none since open). */
  lastWrittenAt = 0;

  constructor(
    private readonly files: FileSystem,
    private readonly logger: Logger,
  ) {}

  /** Records that a snapshot restored at open covers the log up to `seq`. */
  restored(seq: number): void {
    this.coveredSeq = seq;
  }

  /** The last snapshot names segments a merge just retired: write a new one next period. */
  stale(): void {
    this.coveredSeq = -1;
  }

  /** Waits for a background snapshot in progress, if any. */
  async settled(): Promise<void> {
    await this.writing;
  }

  /**
   * Writes the snapshot now, synchronously (at close, after the log is synced and closed; or
   * at a checkpoint, after a sync). A failure is logged, not thrown, unless `strict`: the
   * snapshot is not data, and the next open rebuilds from hints and segments without it.
   */
  writeNow({ index, segments, log }: SnapshotScope, strict = false): void {
    try {
      const started = performance.now();
      const snapshot = takeSnapshot(index, segments, log.sequence, log.activeId, log.activeSize);
      writeSnapshot(this.files, segments.dir, snapshot);
      releaseBuffer(snapshot.slots.buffer);
      this.coveredSeq = snapshot.lastSeq;
      this.lastWrittenAt = Date.now();
      this.logger.info(
        { keys: index.count, seconds: (performance.now() - started) / 1000 },
        'wrote the index snapshot',
      );
    } catch (error) {
      if (strict) throw error;
      this.logger.warn({ err: error }, 'could not write the index snapshot');
    }
  }

  /**
   * Periodic snapshot: if writes happened since the last one and none is being written, copy
   * the index now (the caller has synced the log) and write the file off this thread.
   */
  inBackground({ index, segments, log }: SnapshotScope, sync: () => void): void {
    if (this.writing || log.sequence === this.coveredSeq) return;
    try {
      sync();
      const snapshot = takeSnapshot(index, segments, log.sequence, log.activeId, log.activeSize);
      const started = performance.now();
      this.writing = writeSnapshotInBackground(this.files, segments.dir, snapshot)
        .then(
          () => {
            this.coveredSeq = snapshot.lastSeq;
            this.lastWrittenAt = Date.now();
            this.logger.info(
              { keys: snapshot.count, seconds: (performance.now() - started) / 1000 },
              'wrote a periodic index snapshot',
            );
          },
          (error: unknown) => this.logger.warn({ err: error }, 'periodic index snapshot failed'),
        )
        .finally(() => {
          this.writing = undefined;
          // The index's copy, as big as the index: an idle writer would keep it until its next
          // garbage collection.
          releaseBuffer(snapshot.slots.buffer);
        });
    } catch (error) {
      this.logger.warn({ err: error }, 'periodic index snapshot failed');
    }
  }
}
