// Owns what the writer does to open a store directory: size the index, repair if asked, take
// stock and rebuild the index (an index snapshot, hint files, scans: recovery.ts), and set up
// the log writer on the last log segment (or a new one), continuing its sync marks. The
// writer service adds its timers and answers the RPC. Writer thread only.

import { IndexTable } from '../shared/index-table.js';
import type { Logger } from '../shared/logger.js';
import type { RepairReport, WriterConfig } from '../shared/messages.js';
import type { FileSystem } from './file-system.js';
import { IndexPublisher } from './index-publisher.js';
import { readSnapshotFile, restoreSnapshot } from './index-snapshot.js';
import { LogWriter } from './log-writer.js';
import { type RecoveryResult, recover } from './recovery.js';
import { repairDirectory } from './repair.js';
import { SegmentTable } from './segments.js';
import { readSizeHint } from './size-hint.js';
import { markAllLiveIfSo } from './sorted-recovery.js';

/** An opened store's parts on the writer thread, and what recovery and repair found. */
export interface OpenedStore {
  readonly index: IndexTable;
  readonly segments: SegmentTable;
  readonly publisher: IndexPublisher;
  readonly log: LogWriter;
  readonly recovered: RecoveryResult;
  readonly repair: RepairReport | undefined;
}

/**
 * Opens (creating if needed) the store in `config.dir` through `files`. Throws recovery's and
 * repair's errors (`KV_CORRUPTION`, `KV_IO`, …), having closed whatever it opened.
 */
export function openStoreFiles(
  files: FileSystem,
  config: WriterConfig,
  logger: Logger,
  onProgress: (done: number, total: number) => void,
): OpenedStore {
  files.mkdir(config.dir);
  const index = IndexTable.create(readSizeHint(files, config.dir), config.hashBits);
  const segments = new SegmentTable(config.dir, index, files);
  const publisher = new IndexPublisher(index, segments, config.readMode);
  try {
    const repair = config.repair ? repairDirectory(files, config.dir, logger) : undefined;
    // No reader can see the index until open returns it: recovery may skip the locks, and the
    // snapshot's slot array is read straight into it.
    index.writerSetPrivate(true);
    const snapshot = readSnapshotFile(files, config.dir, index);
    const recovered = recover(
      segments,
      publisher,
      logger,
      (inventory) => restoreSnapshot(snapshot, inventory, index, segments, logger),
      onProgress,
    );
    index.writerSetPrivate(false);
    const active = recovered.last ?? segments.create();
    const log = new LogWriter(
      segments,
      publisher,
      active,
      recovered.lastSeq,
      {
        durability: config.durability,
        segmentBytes: config.segmentBytes,
        maxValueBytes: config.maxValueBytes,
      },
      logger,
      recovered.last
        ? { syncedThrough: recovered.lastSyncedThrough, fullMarkEnd: recovered.lastFullMarkEnd }
        : undefined,
    );
    segments.sweepExpired();
    segments.unhintWithoutKeyRuns();
    // Data segments whose every put entry is live let range scans skip the index (allLive).
    for (const s of segments.list()) markAllLiveIfSo(segments, s);
    return { index, segments, publisher, log, recovered, repair };
  } catch (error) {
    publisher.close();
    throw error;
  }
}
