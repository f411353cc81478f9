// Owns the moving parts of one open store on the caller's thread, and the order they start and
// stop in: the directory lock, the writer worker (which recovers the index), the reader pool,
// this thread's RecordReader, the read and write queues and the compactor.

import { resolve as resolvePath } from 'node:path';
import type { Piscina } from 'piscina';
import { ioError, KvError } from '../shared/errors.js';
import { IndexTable } from '../shared/index-table.js';
import type { Logger } from '../shared/logger.js';
import { makeDirectorySync } from '../shared/make-directory.js';
import type { WriterOpened } from '../shared/messages.js';
import { RecordReader } from '../shared/record-reader.js';
import { VersionLog } from '../shared/version-log.js';
import { ChangeFeed } from './change-feed.js';
import { Compactor } from './compactor.js';
import { type DirLock, lockDirectory } from './dir-lock.js';
import { ExpiryReaper } from './expiry-reaper.js';
import { KeyMemtable } from './key-memtable.js';
import { KeyRuns } from './key-runs.js';
import { type ActiveAtOpen, activeAtOpen } from './memtable-fill.js';
import { type ResolvedOptions, resolveOptions, type StoreOptions } from './options.js';
import { ReadQueue } from './read-queue.js';
import { startReaderPool } from './reader-pool.js';
import { SnapshotRegistry } from './snapshot.js';
import { storeLogger } from './store-logger.js';
import { WriteQueue } from './write-queue.js';
import { WriterLink } from './writer-link.js';

/** Everything an open Store delegates to. Caller's thread. */
export interface StoreEngine {
  /** Absolute path of the data directory. */
  readonly dir: string;
  /** The options in effect, defaults filled in. */
  readonly options: ResolvedOptions;
  /** Where the store's own lines go (`StoreOptions.logger`, component 'store'). */
  readonly log: Logger;
  /** The directory lock, held until stop. */
  readonly lock: DirLock;
  /** The writer worker: every append, sync and compaction install. */
  readonly writer: WriterLink;
  /** The reader threads. */
  readonly pool: Piscina;
  /** This thread's view of the shared index. */
  readonly index: IndexTable;
  /** This thread's reader (getSync and inline reads). */
  readonly localReader: RecordReader;
  /** Per-tick write batching. */
  readonly writes: WriteQueue;
  /** Lazy expiry: deletes the keys reads find expired. */
  readonly reaper: ExpiryReaper;
  /** Per-tick read batching: inline or through the pool. */
  readonly reads: ReadQueue;
  /** What the writer found and did at open (recovery figures). */
  readonly opened: WriterOpened;
  /** Automatic and on-demand compaction. */
  readonly compactor: Compactor;
  /** Keys written since key runs caught up (range scans). */
  readonly memtable: KeyMemtable;
  /** The active segment at open and its size then (what the memtable's fill reads up to). */
  readonly activeAtOpen: ActiveAtOpen;
  /** This thread's open key runs (range scans). */
  readonly keyRuns: KeyRuns;
  /** The versions the writer displaces while snapshots are held. */
  readonly versions: VersionLog;
  /** The snapshots held (Store.snapshot and range scans). */
  readonly snapshots: SnapshotRegistry;
  /** The change feed's watchers (Store.watchChanges). */
  readonly changes: ChangeFeed;
}

/**
 * Opens (creating if needed) the store in `dir` and starts every part. `onWriterFailure` hears
 * a failure of the writer thread after open. Throws like `Store.open`; on a throw, whatever
 * was started is stopped and the lock released.
 */
export async function startEngine(
  dir: string,
  options: StoreOptions | undefined,
  onWriterFailure: (error: KvError) => void,
): Promise<StoreEngine> {
  // '' would resolve to the working directory, a store nobody asked for.
  if (typeof dir !== 'string' || dir === '') {
    throw new KvError('KV_INVALID_ARGUMENT', 'the store directory must be a non-empty string');
  }
  const resolved = resolveOptions(options);
  const absolute = resolvePath(dir);
  try {
    makeDirectorySync(absolute);
  } catch (error) {
    throw ioError(`cannot create ${absolute}`, error);
  }
  const logging = storeLogger(resolved.logger);
  const log = logging.of('store');
  const lock = await lockDirectory(absolute, log);
  const writer = new WriterLink(onWriterFailure, logging.writer, logging.of('writer'));
  try {
    const opened = await writer.open(
      {
        dir: absolute,
        durability: resolved.durability,
        segmentBytes: resolved.segmentBytes,
        hashBits: resolved.hashBits,
        maxValueBytes: resolved.maxValueBytes,
        snapshotIntervalMs: resolved.snapshotIntervalMs,
        readMode: resolved.readMode,
        repair: resolved.repair,
        expiryCycleMs: resolved.expiryCycleMs,
      },
      resolved.onRecoveryProgress,
    );
    const index = new IndexTable(opened.index);
    // Before any write is sent: every put past this point reaches the memtable.
    const atOpen = activeAtOpen(absolute, index.activeSegmentId);
    const pool = startReaderPool(absolute, opened.index, resolved.readers, resolved.readMode, log);
    const memtable = new KeyMemtable(() => index.keyRunsThrough);
    const writes = new WriteQueue((records, length) => writer.write(records, length), {
      memtable,
      activeSegmentId: () => index.activeSegmentId,
    });
    const reaper = new ExpiryReaper(writes);
    const localReader = new RecordReader(absolute, index, resolved.readMode, (key) =>
      reaper.reap(key),
    );
    const engine: StoreEngine = {
      dir: absolute,
      options: resolved,
      log,
      lock,
      writer,
      pool,
      index,
      localReader,
      writes,
      reaper,
      reads: new ReadQueue(pool, resolved.readers, localReader, resolved.inlineReadKeys, index),
      opened,
      compactor: new Compactor(
        absolute,
        writer,
        opened.index,
        resolved.compaction,
        { compression: resolved.compression, level: resolved.compressionLevel },
        logging.of('compaction'),
        () => localReader.sweep(),
        resolved.readMode === 'mmap',
        () => memtable.shed(),
      ),
      memtable,
      activeAtOpen: atOpen,
      keyRuns: new KeyRuns(absolute, index, resolved.readMode === 'mmap'),
      versions: new VersionLog(opened.versions),
      snapshots: new SnapshotRegistry(resolved.snapshotTimeoutMs, log),
      changes: new ChangeFeed(writer),
    };
    log.info(
      { dir: absolute, keys: index.count, recoveryMs: Math.round(opened.recoveryMs) },
      'store opened',
    );
    return engine;
  } catch (error) {
    await writer.terminate();
    await lock.release();
    throw error;
  }
}

/**
 * Stops every part, in order: compaction, the writes and reads in flight, the writer's clean
 * close (skipped if `writerFailed`: it cannot flush), the threads, this thread's reader, the
 * lock. Every step is attempted; the first error is thrown at the end.
 */
export async function stopEngine(engine: StoreEngine, writerFailed: boolean): Promise<void> {
  let firstError: unknown;
  const attempt = async (step: () => Promise<unknown> | unknown) => {
    try {
      await step();
    } catch (error) {
      firstError ??= error;
    }
  };
  engine.snapshots.releaseAll();
  await attempt(() => engine.compactor.close());
  await attempt(() => engine.writes.drain());
  await attempt(() => engine.reads.drain());
  if (!writerFailed) await attempt(() => engine.writer.close());
  await attempt(() => engine.pool.destroy());
  await attempt(() => engine.writer.terminate());
  await attempt(() => engine.localReader.close());
  await attempt(() => engine.keyRuns.close());
  await attempt(() => engine.lock.release());
  engine.log.info({ dir: engine.dir }, 'store closed');
  if (firstError) throw firstError;
}
