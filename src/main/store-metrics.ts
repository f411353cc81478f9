// Owns `Store.metrics()`: the store-level figures a monitoring system samples (keys, disk, writes,
// fsync timings, compaction, queues), gathered in one writer round trip plus counters the
// caller's thread already keeps. The daemon's Prometheus exporter reads them at scrape time.

import type { LatencyDistribution } from '../shared/latency-histogram.js';
import type { CompactionCounts } from './compactor.js';
import type { StoreEngine } from './store-engine.js';

/**
 * What `Store.metrics()` answers: figures since the store was opened (counters only grow while it
 * stays open), or as of the call (gauges).
 */
export interface StoreMetrics {
  /** Live keys in the index (expired keys not yet deleted included, as in `stats().keys`). */
  readonly keys: number;
  /** Bytes of every segment file, log and merged, headers included. */
  readonly diskBytes: number;
  /** Bytes of the records the index points at (the rest is garbage compaction reclaims). */
  readonly liveBytes: number;
  /** Merges installed since open (automatic ones and `compact()`'s), and their bytes. */
  readonly compaction: CompactionCounts;
  /**
   * How long each fdatasync of the active log segment took, in seconds: the syncs of the
   * durability mode (every write under `always`, once a second under `everysec`, from a libuv
   * thread, its wait for one included), and those that seal a full segment or close the store.
   * The fsyncs of merges, hint files and the index snapshot are not included.
   */
  readonly fsync: LatencyDistribution;
  /** The writes on their way to the writer thread. */
  readonly writeQueue: {
    /**
     * Writes (`set`, `delete`, `batch`, operations: one each) queued or sent and not yet
     * answered.
     */
    readonly writes: number;
    /** Messages (one per event-loop turn with writes) sent to the writer and not yet answered. */
    readonly messages: number;
  };
  /**
   * The reader thread pool (Piscina). Reads of up to `inlineReadKeys` keys at once run on the
   * caller's thread instead, so the pool may stay idle while the store serves many reads.
   */
  readonly readerPool: {
    /** Reader threads. */
    readonly threads: number;
    /**
     * Piscina's utilisation, 0 to 1: the pool's total task run time since it started over its
     * threads' capacity in that time (a mean since open, not a recent rate).
     */
    readonly utilization: number;
    /** Tasks waiting for a free reader thread now. */
    readonly queueSize: number;
    /** Tasks the pool has completed. */
    readonly completedTasks: number;
  };
  /** Operation counts since open. */
  readonly operations: {
    /** Records the writer appended (a batch counts its records and its commit record). */
    readonly recordsWritten: number;
    /** Group commits: appends of the writes that reached the writer together (expiry's included). */
    readonly groupCommits: number;
    /** Keys read on the caller's thread (`getSync`, inline batches). */
    readonly inlineReads: number;
    /** Keys read by the reader pool. */
    readonly pooledReads: number;
  };
}

/**
 * Gathers `Store.metrics()`: the caller's thread's figures as of the call, then one `stats`
 * round trip to the writer thread (segments, counters, fsync timings). Caller's thread; rejects
 * like `Store.stats()`.
 */
export async function collectMetrics(e: StoreEngine): Promise<StoreMetrics> {
  // Read before the round trip: the writes queued when metrics() was called, not after.
  const writeQueue = e.writes.depth();
  const reads = e.reads.counts();
  const readerPool = {
    threads: e.pool.threads.length,
    utilization: e.pool.utilization,
    queueSize: e.pool.queueSize,
    completedTasks: e.pool.completed,
  };
  const compaction = e.compactor.counts();
  const w = await e.writer.stats();
  let diskBytes = 0;
  let liveBytes = 0;
  for (const s of w.segments) {
    diskBytes += s.bytes;
    liveBytes += s.liveBytes;
  }
  return {
    keys: e.index.count,
    diskBytes,
    liveBytes,
    compaction,
    fsync: w.syncLatency,
    writeQueue,
    readerPool,
    operations: {
      recordsWritten: w.writes,
      groupCommits: w.flushes,
      inlineReads: reads.inline,
      pooledReads: reads.pooled,
    },
  };
}
