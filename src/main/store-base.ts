// Owns what the public Store is beside its per-key operations (store.ts): the store's state
// (open, closing, failed) with the checks every method makes, and the whole-store operations:
// key listing, ranges and snapshots, compaction, backup, flush and checkpoint, the durability
// mode, stats and metrics, the change feed, and close.

import { KvError } from '../shared/errors.js';
import type { ReaderInit } from '../shared/messages.js';
import type { RecordReader } from '../shared/record-reader.js';
import type { OpResult } from '../shared/write-ops.js';
import { type BackupOptions, type BackupResult, backupStore } from './backup.js';
import type { ChangeListener, ChangeWatch } from './change-feed.js';
import type { CompactionProgress, CompactionResult } from './compactor.js';
import { checkKey } from './input-checks.js';
import { listKeys, pickRandomKey } from './key-listing.js';
import type { Durability } from './options.js';
import { resolveRange } from './range-scan.js';
import { type Snapshot, scanInSnapshot, scanInSnapshotInSlices } from './snapshot.js';
import { type StoreEngine, stopEngine } from './store-engine.js';
import { collectMetrics, type StoreMetrics } from './store-metrics.js';
import { composeStats } from './store-stats.js';
import type {
  Bytes,
  RangeEntry,
  RangeKey,
  RangeKeyValue,
  RangeOptions,
  StoreStats,
} from './store-types.js';

/**
 * The state and whole-store operations of a `Store` (see `Store`, which adds the per-key
 * operations and `Store.open`). Not made on its own.
 */
export class StoreBase {
  private closed = false;
  private closing: Promise<void> | undefined;
  private failure: KvError | undefined;

  /** Absolute path of the store's data directory (resolved by open). */
  readonly dir: string;

  /** @internal */
  protected constructor(
    /** @internal The open store's parts. */
    protected readonly e: StoreEngine,
  ) {
    this.dir = e.dir;
  }

  /**
   * @internal What another thread of this process needs to read this store through the shared
   * index, as a reader pool thread does (the daemon's network threads): its directory, index
   * and read mode. Throws `KV_CLOSED` once closed.
   */
  readerInit(): ReaderInit {
    this.checkOpen();
    return { dir: this.dir, index: this.e.index.buffer, readMode: this.e.options.readMode };
  }

  /**
   * @internal This thread's reader of the shared index, or undefined unless the store is open
   * and well: the daemon's plain-GET path (server/plain-gets.ts) reads through it, as `getSync`.
   */
  localReaderIfOpen(): RecordReader | undefined {
    return this.closed || this.failure !== undefined ? undefined : this.e.localReader;
  }

  /**
   * Every key with a live value, in byte order, after all writes issued before the call: a
   * keys-only `range`. A damaged record is left out, logged, and counted in
   * `stats().damage.reads`: one bad record does not hide every other key. Rejects with
   * `KV_IO`, `KV_CLOSED`, or `KV_CORRUPTION` if a key run file is damaged.
   */
  async keys(): Promise<Buffer[]> {
    this.checkOpen();
    return listKeys(this.e);
  }

  /**
   * The live keys within `options`' bounds, in byte order (or reversed), each with its value
   * unless `values: false`, read on the calling thread as the iterator is advanced (as
   * `getSync` is to `get`). It reads from a snapshot taken at its first step and released when
   * it ends (or is returned early): writes made during the walk are not seen. Cost: a seek in
   * each key run, then per entry a step in each and one index lookup; never a sort or a walk of
   * every key. Throws `KV_INVALID_ARGUMENT` for bad options (at once), `KV_CORRUPTION` for a
   * damaged record or key run, `KV_CLOSED`; `KV_SNAPSHOT_RELEASED` if it outlives
   * `snapshotTimeoutMs`.
   */
  rangeSync(options: RangeOptions & { readonly values: false }): Generator<RangeKey>;
  rangeSync(options?: RangeOptions): Generator<RangeKeyValue>;
  rangeSync(options?: RangeOptions): Generator<RangeEntry> {
    this.checkOpen();
    return scanInSnapshot(this.e, resolveRange(options));
  }

  /**
   * `rangeSync` as an async iterable: the entries are read in slices of a few hundred on this
   * thread from one snapshot, and the event loop runs between slices. See `rangeSync`.
   */
  range(options: RangeOptions & { readonly values: false }): AsyncGenerator<RangeKey>;
  range(options?: RangeOptions): AsyncGenerator<RangeKeyValue>;
  range(options?: RangeOptions): AsyncGenerator<RangeEntry> {
    this.checkOpen();
    return scanInSnapshotInSlices(this.e, resolveRange(options));
  }

  /**
   * A read view that sees exactly the writes acknowledged before this call, while writes,
   * merges and expiry go on: `get`, `getSync`, `getMany`, `range`, `rangeSync`, `release()`.
   * Cheap (no copy of the index). Release it when done: while any snapshot is held, merges
   * wait to retire the segments they replaced (`stats().snapshots`). One never released is
   * released after `snapshotTimeoutMs` or when collected, with a log line. Throws `KV_CLOSED`.
   */
  snapshot(): Snapshot {
    this.checkOpen();
    return this.e.snapshots.create(this.e);
  }

  /**
   * Internal (the daemon's idle trim): how many background jobs (merges, hint files) have ended
   * so far. Each frees memory an idle process can give back.
   * @internal
   */
  backgroundJobsEnded(): number {
    return this.e.compactor.jobsEnded;
  }

  /**
   * Compacts now: seals the active segment and merges every sealed segment into merged ones
   * holding only live records (tombstones and expired keys are dropped where no older segment
   * needs them). Resolves once the merges are installed and the old segment files removed.
   * `onProgress` reports bytes read. Rejects with `KV_CLOSED` if the store closes first,
   * `KV_IO` on a file system error (the old segments then stay in use), `KV_INVALID_ARGUMENT`
   * if `onProgress` is not a function.
   */
  compact(onProgress?: CompactionProgress): Promise<CompactionResult> {
    try {
      this.checkOpen();
      if (onProgress !== undefined && typeof onProgress !== 'function') {
        throw new KvError('KV_INVALID_ARGUMENT', 'compact takes a progress callback or nothing');
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.e.compactor.compact(onProgress);
  }

  /**
   * Writes a consistent copy of the store to `dir` while writes go on, which opens as a normal
   * store: every write issued before the call, as of one point in the log (`sequence`). Sealed
   * files are hard-linked where the file system allows it (`options.link`), the rest copied;
   * the copy is staged beside `dir` and renamed into place once complete. Rejects with
   * `KV_EXISTS` if `dir` exists and is not an empty directory (or, with `options.replace`, an
   * earlier backup, moved to `<dir>.old`), `KV_INVALID_ARGUMENT`, `KV_CLOSED`, `KV_IO`.
   */
  backup(dir: string, options?: BackupOptions): Promise<BackupResult> {
    try {
      this.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return backupStore(this.e, dir, options);
  }

  /** Forces every write so far to disk (fdatasync), whatever the durability mode. Rejects with `KV_IO` or `KV_CLOSED`. */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.e.writes.drain();
    await this.e.writer.sync();
  }

  /**
   * Forces every write so far to disk and writes the index snapshot now (Redis's SAVE), so the
   * next open replays nothing. Resolves with when the snapshot was written (ms since the
   * epoch). Rejects with `KV_IO`, `KV_DISK_FULL` or `KV_CLOSED`.
   */
  async checkpoint(): Promise<number> {
    this.checkOpen();
    await this.e.writes.drain();
    return this.e.writer.checkpoint();
  }

  /**
   * Changes the durability mode while open (Redis's CONFIG SET appendfsync): it applies to the
   * writes issued after the call. Rejects with `KV_INVALID_ARGUMENT` for an unknown mode.
   */
  async setDurability(durability: Durability): Promise<void> {
    this.checkOpen();
    if (!['always', 'everysec', 'no'].includes(durability)) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `durability must be always, everysec or no (got ${String(durability)})`,
      );
    }
    await this.e.writes.drain();
    await this.e.writer.setDurability(durability);
  }

  /**
   * A key picked at random among the live ones (Redis's RANDOMKEY), or undefined if there is
   * none. Keys are sampled from the index, so the choice is close to uniform, not exact.
   */
  async randomKey(): Promise<Buffer | undefined> {
    this.checkOpen();
    return pickRandomKey(this.e);
  }

  /** Keys, index memory, per-segment live and dead bytes, recovery, read and writer counters. */
  async stats(): Promise<StoreStats> {
    this.checkOpen();
    return composeStats(
      this.e.index,
      await this.e.writer.stats(),
      this.e.options,
      this.e.opened,
      this.e.reads.counts(),
      this.e.versions,
    );
  }

  /**
   * Figures for monitoring (keys, disk and live bytes, fsync timings, compaction, queue depths,
   * reader pool use, operation counts), from one round trip to the writer like `stats()`: what
   * `kvd serve --metrics-port` exports (store-metrics.ts). Rejects with `KV_CLOSED`.
   */
  async metrics(): Promise<StoreMetrics> {
    this.checkOpen();
    return collectMetrics(this.e);
  }

  /**
   * The change feed: `listener` hears every change the store applies from now on (sets with their
   * whole value and expiry, deletes, batch ends), in log order, on this thread, in groups as the
   * writer appends them and before the writes are acknowledged. Resolves once it is on, with
   * `since`: the sequence number of the last change before it. Replication is built on it.
   * Rejects with `KV_CLOSED`, or `KV_INVALID_ARGUMENT` if `listener` is not a function.
   */
  async watchChanges(listener: ChangeListener): Promise<ChangeWatch> {
    this.checkOpen();
    if (typeof listener !== 'function') {
      throw new KvError('KV_INVALID_ARGUMENT', 'watchChanges takes a listener function');
    }
    return this.e.changes.watch(listener);
  }

  /**
   * Waits for writes and reads in flight, syncs, stops the threads and releases the directory.
   * Idempotent; later calls to other methods throw `KV_CLOSED`.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal Runs the validation and enqueueing in `start`, turning a synchronous throw into a rejection. */
  protected operation(start: () => Promise<OpResult>): Promise<OpResult> {
    try {
      this.checkOpen();
      return start();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    await stopEngine(this.e, this.failure !== undefined);
  }

  /** @internal The store failed (its writer died): every later call throws `error`. */
  protected fail(error: KvError): void {
    if (this.failure) return;
    this.failure = error;
    this.e.log.error({ err: error, dir: this.dir }, 'store failed');
  }

  /** @internal Throws `KV_CLOSED`, or the failure, unless the store is open and well. */
  protected checkOpen(): void {
    if (this.closed) throw new KvError('KV_CLOSED', 'the store is closed');
    if (this.failure) throw this.failure;
  }

  /** @internal Throws unless `key` is a key this store takes. */
  protected checkKey(key: unknown): asserts key is Bytes {
    checkKey(key, this.e.options.maxKeyBytes);
  }
}
