// Owns the writer worker's behaviour behind its RPC surface: open (recovery), the group-commit
// queue (every write message that arrives before the next turn of the event loop is appended
// with one writev and one sync), the everysec sync timer, index snapshots, stats and close;
// compaction's side is writer-compaction.ts. The entry file writer.ts only wires this to its
// port (comlink, and write messages beside it), so tests can drive it on their own thread.

import type {
  CompactionPolicy,
  InstallOutcome,
  MergePlan,
  MergeResult,
  UnhintedSegment,
} from '../shared/compaction-messages.js';
import { KvError, serializeError } from '../shared/errors.js';
import { KIND_SORTED } from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import { createLogger, type Logger } from '../shared/logger.js';
import type {
  BackupCopied,
  BackupRequest,
  Durability,
  ValueReply,
  VoidReply,
  WriteReply,
  WriterApi,
  WriterConfig,
  WriterOpened,
  WriterStats,
} from '../shared/messages.js';
import { WriterBackups } from './backup-capture.js';
import { ActiveExpiry, EXPIRY_CYCLE_MS } from './expiry-cycle.js';
import { type FileSystem, nodeFileSystem } from './file-system.js';
import type { IndexPublisher } from './index-publisher.js';
import type { LogWriter } from './log-writer.js';
import { writeMissingHints } from './repair.js';
import { valueReply, voidReply } from './rpc-reply.js';
import type { SegmentTable } from './segments.js';
import { writeSizeHint } from './size-hint.js';
import { WriterCompaction } from './writer-compaction.js';
import { openStoreFiles } from './writer-open.js';
import { WriterSnapshots } from './writer-snapshots.js';

/** What the thread entry (or a test) gives the writer service. */
export interface WriterServiceOptions {
  /** Hears recovery's progress during `open` (bytes done, total). */
  readonly onRecoveryProgress?: (done: number, total: number) => void;
  /** Where the writer's log lines go (default: kvd's JSON lines on stderr). */
  readonly logger?: Logger;
  /** The file layer (default: node:fs); tests record operations or inject errors through it. */
  readonly files?: FileSystem;
  /** Hears the change feed: the records each append wrote, in log order (while it is on). */
  readonly onFeed?: (records: Uint8Array) => void;
}

interface Queued {
  readonly bytes: Uint8Array;
  readonly resolve: (reply: WriteReply) => void;
}

interface OpenState {
  // `timer` changes with the durability mode (setDurability); the rest is fixed at open.
  readonly index: IndexTable;
  readonly segments: SegmentTable;
  readonly publisher: IndexPublisher;
  readonly log: LogWriter;
  timer: NodeJS.Timeout | undefined;
  readonly snapshotTimer: NodeJS.Timeout | undefined;
  readonly expiryTimer: NodeJS.Timeout | undefined;
}

/**
 * The writer worker's RPC implementation. Runs on the writer thread (tests drive it on their
 * own). Never throws across the RPC: failures come back as `{ ok: false, error }` replies or as
 * failed write outcomes.
 */
export class WriterService implements WriterApi {
  private state: OpenState | undefined;
  private queue: Queued[] = [];
  private flushScheduled = false;
  private readonly logger: Logger;
  private readonly onRecoveryProgress: (done: number, total: number) => void;
  private readonly onFeed: ((records: Uint8Array) => void) | undefined;
  private readonly files: FileSystem;
  private readonly compaction: WriterCompaction;
  private readonly snapshots: WriterSnapshots;
  private readonly backups = new WriterBackups();
  /** Period of the everysec background sync. */
  private syncIntervalMs = 1000;
  private readonly expiry = new ActiveExpiry();

  constructor(options: WriterServiceOptions = {}) {
    this.logger = options.logger ?? createLogger('writer');
    this.onRecoveryProgress = options.onRecoveryProgress ?? (() => {});
    this.onFeed = options.onFeed;
    this.files = options.files ?? nodeFileSystem;
    this.compaction = new WriterCompaction(this.logger);
    this.snapshots = new WriterSnapshots(this.files, this.logger);
  }

  open(config: WriterConfig): Promise<ValueReply<WriterOpened>> {
    const failed = (error: unknown) =>
      this.logger.error({ err: error, dir: config.dir }, 'open failed');
    return valueReply(() => {
      const started = performance.now();
      this.syncIntervalMs = config.syncIntervalMs ?? 1000;
      const opened = openStoreFiles(this.files, config, this.logger, this.onRecoveryProgress);
      const { index, segments, publisher, log, recovered, repair } = opened;
      const timer =
        config.durability === 'everysec'
          ? setInterval(() => this.backgroundSync(), this.syncIntervalMs)
          : undefined;
      timer?.unref();
      const period = config.snapshotIntervalMs ?? 0;
      const snapshotTimer =
        period > 0 ? setInterval(() => this.snapshotInBackground(), period) : undefined;
      snapshotTimer?.unref();
      const expiryPeriod = config.expiryCycleMs ?? EXPIRY_CYCLE_MS;
      const expiryTimer =
        expiryPeriod > 0 ? setInterval(() => this.expireSome(), expiryPeriod) : undefined;
      expiryTimer?.unref();
      if (recovered.restored > 0 && recovered.records === 0) this.snapshots.restored(log.sequence);
      const state: OpenState = {
        index,
        segments,
        publisher,
        log,
        timer,
        snapshotTimer,
        expiryTimer,
      };
      this.state = state;
      segments.publishKeyRunState(log.activeId);
      if (repair) {
        // Rebuild what repair removed: hint files, and an index snapshot of the synced log.
        writeMissingHints(segments, log.activeId);
        segments.publishKeyRunState(log.activeId);
        log.sync();
        this.snapshots.writeNow(state);
      }
      return {
        index: index.buffer,
        versions: publisher.versions.buffer,
        recoveredRecords: recovered.records,
        restoredSegments: recovered.restored,
        hintedSegments: recovered.hinted,
        scannedSegments: recovered.scanned,
        truncatedBytes: recovered.truncatedBytes,
        ...(recovered.tornTail ? { tornTail: recovered.tornTail } : {}),
        ...(repair ? { repair } : {}),
        recoveryMs: performance.now() - started,
      };
    }, failed);
  }

  /** Queues a buffer of records; they are appended with everything else queued this turn. */
  write(records: ArrayBuffer, length: number): Promise<WriteReply> {
    return new Promise((resolve) => {
      this.queue.push({ bytes: new Uint8Array(records, 0, length), resolve });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  sync(): Promise<VoidReply> {
    return voidReply(() => {
      this.flush();
      this.requireOpen().log.sync();
    });
  }

  snapshot(): Promise<ValueReply<Uint32Array>> {
    return valueReply(() => {
      this.flush();
      return this.requireOpen().index.writerCopyLocations();
    });
  }

  sample(count: number): Promise<ValueReply<Uint32Array>> {
    return valueReply(() => {
      this.flush();
      return this.requireOpen().index.writerSampleLocations(count, Math.random);
    });
  }

  checkpoint(): Promise<ValueReply<number>> {
    return valueReply(async () => {
      this.flush();
      const state = this.requireOpen();
      state.log.sync();
      await this.snapshots.settled();
      this.snapshots.writeNow(state, true);
      return this.snapshots.lastWrittenAt;
    });
  }

  setDurability(durability: Durability): Promise<VoidReply> {
    return voidReply(() => {
      this.flush();
      const state = this.requireOpen();
      state.log.setDurability(durability);
      if (state.timer) clearInterval(state.timer);
      const timer =
        durability === 'everysec'
          ? setInterval(() => this.backgroundSync(), this.syncIntervalMs)
          : undefined;
      timer?.unref();
      state.timer = timer;
    });
  }

  planCompaction(
    all: boolean,
    after: number,
    upTo: number,
    policy: CompactionPolicy,
  ): Promise<ValueReply<MergePlan | null>> {
    return valueReply(() => {
      const state = this.requireOpen();
      if (all && after === 0) this.flush();
      return this.compaction.plan(state, all, after, upTo, policy);
    });
  }

  installCompaction(plan: MergePlan, result: MergeResult): Promise<ValueReply<InstallOutcome>> {
    const failed = (error: unknown) =>
      this.logger.error({ err: error }, 'compaction: install failed');
    return valueReply(async () => {
      const outcome = await this.compaction.install(this.requireOpen(), plan, result);
      // The last snapshot names retired segments now: take a new one at the next period.
      this.snapshots.stale();
      return outcome;
    }, failed);
  }

  abandonCompaction(plan: MergePlan): Promise<VoidReply> {
    return voidReply(() => this.compaction.abandon(this.state?.segments, plan));
  }

  unhintedSegments(): Promise<ValueReply<UnhintedSegment[]>> {
    return valueReply(() => {
      const { segments, log } = this.requireOpen();
      return (
        segments
          .list()
          // Data segments are their own hint; open rebuilds a missing key run of theirs.
          .filter((s) => !s.hinted && s.id !== log.activeId && s.kind !== KIND_SORTED)
          .map((s) => ({ id: s.id, size: s.size }))
      );
    });
  }

  async hintWritten(id: number): Promise<VoidReply> {
    const state = this.state;
    const segment = state?.segments.byFileId(id);
    if (segment) segment.hinted = true;
    state?.segments.publishKeyRunState(state.log.activeId);
    return { ok: true };
  }

  backup(request: BackupRequest): Promise<ValueReply<BackupCopied>> {
    return valueReply(() => {
      // One turn: append what is queued, sync, capture (backup-capture.ts); the copy runs after.
      this.flush();
      const state = this.requireOpen();
      state.log.sync();
      return this.backups.run(state, request);
    });
  }

  stats(): Promise<ValueReply<WriterStats>> {
    return valueReply(() => {
      // Apply what is queued first, so the figures include writes already sent (a read's reap).
      this.flush();
      const { segments, log } = this.requireOpen();
      const withExpiry = segments.withExpiry(); // sweeps first, so the segments' figures agree
      return {
        segments: segments.stats(log.activeId),
        lastSeq: log.sequence,
        writes: log.writes,
        flushes: log.flushes,
        syncs: log.syncs,
        expiredKeys: log.expiredKeys,
        withExpiry,
        lastSnapshotAt: this.snapshots.lastWrittenAt,
        durability: log.durability,
        damageSkippedByMerges: { ...this.compaction.damageSkipped },
        syncLatency: log.syncLatency.snapshot(),
      };
    });
  }

  close(): Promise<VoidReply> {
    return voidReply(async () => {
      this.flush();
      const state = this.state;
      if (!state) return;
      this.state = undefined;
      if (state.timer) clearInterval(state.timer);
      if (state.snapshotTimer) clearInterval(state.snapshotTimer);
      if (state.expiryTimer) clearInterval(state.expiryTimer);
      await this.snapshots.settled();
      await this.backups.stopAll();
      try {
        state.log.close();
      } finally {
        state.publisher.close();
      }
      // Only once the log is synced and closed: the snapshot must cover only durable records.
      writeSizeHint(this.files, state.segments.dir, state.index.count);
      this.snapshots.writeNow(state);
      this.logger.info({ dir: state.segments.dir }, 'closed');
    });
  }

  /** Appends everything queued so far as one group: one writev per segment, one sync. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const state = this.state;
    if (!state) {
      const error = { code: 'KV_CLOSED' as const, message: 'the store is closed' };
      for (const q of batch) q.resolve({ outcomes: new Uint8Array(0), error });
      return;
    }
    let replies: WriteReply[];
    try {
      replies = state.log.append(batch.map((q) => q.bytes));
    } catch (error) {
      // LogWriter.append handles I/O failures itself; anything else is a bug. Answer every
      // caller rather than leave their promises hanging.
      this.logger.error({ err: error }, 'append failed unexpectedly');
      const reply = { outcomes: new Uint8Array(0), error: serializeError(error) };
      replies = batch.map(() => reply);
    }
    // Before the replies: a caller that sees its write acknowledged finds it in the feed.
    this.emitFeed();
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(replies[i]!);
  }

  /**
   * Turns the change feed on (every record appended from then on goes to `onFeed`) and
   * answers the sequence number of the last record appended before it; off answers 0.
   */
  setFeed(on: boolean): Promise<ValueReply<number>> {
    return valueReply(() => {
      this.flush();
      const log = this.requireOpen().log;
      if (on) return log.startFeed();
      log.feed.stop();
      return 0;
    });
  }

  /** Hands the records appended since the last time to `onFeed`. */
  private emitFeed(): void {
    const records = this.state?.log.feed.take();
    if (records) this.onFeed?.(records);
  }

  /** Periodic snapshot (writer-snapshots.ts), after appending what is queued and a sync. */
  private snapshotInBackground(): void {
    const state = this.state;
    if (!state) return;
    this.snapshots.inBackground(state, () => {
      this.flush();
      state.log.sync();
    });
  }

  /** One active expiry cycle (expiry-cycle.ts): delete some expired keys nobody reads. */
  private expireSome(): void {
    const state = this.state;
    if (!state) return;
    this.expiry.runOnce(state.index, state.segments, state.log, this.logger);
    this.emitFeed();
  }

  private backgroundSync(): void {
    try {
      this.state?.log.syncInBackground();
    } catch (error) {
      this.logger.error({ err: error }, 'background sync failed');
    }
  }

  private requireOpen(): OpenState {
    if (!this.state) throw new KvError('KV_CLOSED', 'the store is closed');
    return this.state;
  }
}
