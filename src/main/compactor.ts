// Owns running compaction for a Store: the automatic check (every intervalMs: write missing hint
// files, then merge if a trigger fires), `compact()` on demand (seal the active segment, merge
// everything sealed), one job at a time, each in its own compaction worker thread, and stopping
// cleanly on close. The writer plans and installs; the worker copies. Only a pending `compact()`
// holds the process open; automatic work does not. Caller's thread only.

import { Worker } from 'node:worker_threads';
import type {
  BlockCompressionSetting,
  CompactionEvent,
  CompactionJob,
  CompactionPolicy,
  MergeResult,
} from '../shared/compaction-messages.js';
import { deserializeError, KvError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { requestStop } from '../shared/throttle.js';
import type { CompactionOptions } from './options.js';
import { threadExecArgv } from './thread-exec-argv.js';
import type { WriterLink } from './writer-link.js';

/** Larger than any segment id (they are u32). */
const MAX_ID = 0xffff_ffff;

/** What `compact()` did. */
export interface CompactionResult {
  /** Merges run (a large store takes several, each up to `maxMergeBytes` of input). */
  readonly merges: number;
  /** Segments merged away (the inputs of every merge, now removed). */
  readonly segmentsMerged: number;
  /** Bytes of the segments merged away (their file sizes, headers included). */
  readonly bytesBefore: number;
  /** Bytes of the merged segments written in their place. */
  readonly bytesAfter: number;
  /**
   * Keys moved to merged segments. A key written again while its merge ran keeps its newer
   * value and is not counted.
   */
  readonly keysMoved: number;
  /**
   * Expired keys the merges removed from the index without copying them (a merge that does not
   * start at the oldest segment keeps a tombstone for each, without its value).
   */
  readonly keysExpired: number;
  /** Wall-clock time the whole `compact()` took, in seconds. */
  readonly seconds: number;
}

/** Progress of a running `compact()`: bytes of input read so far, of the current merge. */
export type CompactionProgress = (progress: {
  /** Which merge of this `compact()` is running, from 1. */
  readonly merge: number;
  /** Input bytes that merge has read so far. */
  readonly bytesRead: number;
  /** Input bytes that merge will read in all (the sizes of its input segments). */
  readonly bytesTotal: number;
}) => void;

/** Merges installed since open (automatic and `compact()`), and their bytes. */
export interface CompactionCounts {
  /** Merges installed. */
  readonly runs: number;
  /** Bytes of their input segments (file sizes). */
  readonly bytesRead: number;
  /** Bytes of the merged segments they wrote. */
  readonly bytesWritten: number;
}

/** Runs the merges and hint files of one store. */
export class Compactor {
  private installed = { runs: 0, bytesRead: 0, bytesWritten: 0 };
  private queue: Promise<unknown> = Promise.resolve();
  private control: SharedArrayBuffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private autoQueued = false;
  /** Segments whose hint file could not be written (damaged?): not retried until reopen. */
  private readonly hintFailed = new Set<number>();
  private closed = false;
  private policy: CompactionPolicy;
  /** The running job's compaction worker, if any. */
  private worker: Worker | undefined;
  /** `compact()` calls not yet settled: while there is one, the worker holds the process open. */
  private waiting = 0;
  /**
   * Background work finished so far: each job's worker exit and each merge's install. Both free
   * memory (a worker's C heap, a merge's moves) that an idle daemon gives back (idle-trim.ts).
   */
  jobsEnded = 0;

  constructor(
    private readonly dir: string,
    private readonly writer: WriterLink,
    private readonly index: SharedArrayBuffer,
    private readonly options: Required<CompactionOptions>,
    /** How the jobs compress the key runs they write (the store's `compression` options). */
    private readonly blocks: BlockCompressionSetting,
    private readonly log: Logger,
    /** Runs after each merge is installed (the caller's thread closes retired fds). */
    private readonly onInstalled: () => void = () => {},
    /** Whether merges may map their inputs (read mode `'mmap'`). */
    private readonly mapInputs = true,
    /** Runs once key runs cover more of the log (a hint file written, a merge installed). */
    private readonly onKeyRuns: () => void = () => {},
  ) {
    this.policy = {
      triggerDeadRatio: options.triggerDeadRatio,
      triggerDeadBytes: options.triggerDeadBytes,
      includeDeadRatio: options.includeDeadRatio,
      smallSegmentBytes: options.smallSegmentBytes,
      maxMergeBytes: options.maxMergeBytes,
      sortSealed: options.sortSealed,
      sortSkipThrough: 0,
      sortQuietMs: options.intervalMs,
    };
    if (options.auto) {
      this.timer = setInterval(() => this.checkNow(), options.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Seals the active segment and merges every sealed segment; resolves once each merge is
   * installed and its inputs retired. Rejects with `KV_CLOSED` if the store closes first. The
   * process stays alive until it settles (even while it waits for an automatic job).
   */
  compact(onProgress?: CompactionProgress): Promise<CompactionResult> {
    this.waiting++;
    this.holdProcess();
    return this.enqueue(() => this.mergeAll(onProgress)).finally(() => {
      this.waiting--;
      this.holdProcess();
    });
  }

  /** Merges installed since open and their bytes (a copy). */
  counts(): CompactionCounts {
    return { ...this.installed };
  }

  /**
   * Runs the automatic check once (unless one is already queued): a due merge, or else sealed
   * log segments rewritten sorted (`sortSealed`), then the hint files still missing. Sorting
   * first spares a hint job for segments a merge replaces.
   */
  checkNow(): void {
    if (this.autoQueued || this.closed) return;
    this.autoQueued = true;
    this.enqueue(async () => {
      this.autoQueued = false;
      try {
        await this.mergeDue();
      } finally {
        if (!this.closed) await this.writeHints();
      }
    }).catch((error: unknown) => {
      if (!this.closed) this.log.error({ err: error }, 'automatic compaction failed');
    });
  }

  /**
   * Runs the due merge, if any. A sort of sealed segments refused as damaged (`KV_CORRUPTION`:
   * the merge will not lose a live key) is not tried again for those segments until reopen;
   * they stay log segments, read record by record. Other failures are tried again next check.
   */
  private async mergeDue(): Promise<void> {
    const plan = await this.writer.planCompaction(false, 0, MAX_ID, this.policy);
    if (!plan) return;
    try {
      await this.runMerge(plan, undefined, 1);
    } catch (error) {
      const damaged = error instanceof KvError && error.code === 'KV_CORRUPTION';
      if (plan.reason !== 'sort' || !damaged || this.closed) throw error;
      this.policy = { ...this.policy, sortSkipThrough: plan.last };
      this.log.error(
        { err: error, first: plan.first, last: plan.last },
        'compaction: cannot sort sealed segments; they stay log segments',
      );
    }
  }

  /** Stops the timer and any running job, and waits for it to end. Never throws. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting++; // the caller waits for the running job to stop: hold the process meanwhile
    this.holdProcess();
    if (this.timer) clearInterval(this.timer);
    if (this.control) requestStop(this.control);
    await this.queue.catch(() => {});
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new KvError('KV_CLOSED', 'the store is closed');
      return task();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async mergeAll(onProgress: CompactionProgress | undefined): Promise<CompactionResult> {
    const started = performance.now();
    const totals = {
      merges: 0,
      segmentsMerged: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      keysMoved: 0,
      keysExpired: 0,
    };
    // Segments sealed while compact() runs are left for later, so it ends under any write load.
    let after = 0;
    let upTo = MAX_ID;
    for (;;) {
      const plan = await this.writer.planCompaction(true, after, upTo, this.policy);
      if (!plan) break;
      upTo = Math.min(upTo, plan.sealedThrough);
      totals.merges++;
      const { result, moved, dropped } = await this.runMerge(plan, onProgress, totals.merges);
      totals.segmentsMerged += plan.inputs.length;
      totals.bytesBefore += plan.inputs.reduce((n, s) => n + s.size, 0);
      totals.bytesAfter += result.size;
      totals.keysMoved += moved;
      totals.keysExpired += dropped;
      after = plan.last;
    }
    return { ...totals, seconds: (performance.now() - started) / 1000 };
  }

  /** Runs one planned merge in a worker and installs it; abandons the plan if the worker fails. */
  private async runMerge(
    plan: Parameters<WriterLink['installCompaction']>[0],
    onProgress: CompactionProgress | undefined,
    merge: number,
  ): Promise<{ result: MergeResult; moved: number; dropped: number }> {
    const started = performance.now();
    const bytesTotal = plan.inputs.reduce((n, s) => n + s.size, 0);
    this.log.info(
      { merge, segments: plan.inputs.length, bytes: bytesTotal, output: plan.outputId },
      'compaction: merging',
    );
    let result: MergeResult;
    try {
      result = await this.runJob(
        {
          kind: 'merge',
          dir: this.dir,
          index: this.index,
          control: this.newControl(),
          plan,
          bytesPerSecond: this.options.bytesPerSecond,
          blocks: this.blocks,
          mapInputs: this.mapInputs,
        },
        (bytesRead) => onProgress?.({ merge, bytesRead, bytesTotal }),
      ).then((event) => {
        if (event.kind !== 'merged') throw new KvError('KV_INTERNAL', 'unexpected worker reply');
        return event.result;
      });
    } catch (error) {
      await this.writer.abandonCompaction(plan).catch(() => {});
      throw error;
    }
    const copied = performance.now();
    this.log.info(
      {
        merge,
        bytesRead: bytesTotal,
        bytesWritten: result.size,
        records: result.records,
        seconds: (copied - started) / 1000,
      },
      'compaction: copied live records',
    );
    const outcome = await this.writer.installCompaction(plan, result);
    this.jobsEnded++;
    this.installed.runs++;
    this.installed.bytesRead += bytesTotal;
    this.installed.bytesWritten += result.size;
    this.onInstalled();
    this.onKeyRuns();
    this.log.info(
      { merge, ...outcome, seconds: (performance.now() - copied) / 1000 },
      'compaction: installed',
    );
    return { result, moved: outcome.moved, dropped: outcome.dropped };
  }

  /**
   * Writes the hint file of every sealed segment that lacks one. A segment whose hint cannot be
   * written (a damaged segment reports KV_CORRUPTION) is logged and skipped from then on, so it
   * never holds up merges; its reads still verify every record.
   */
  private async writeHints(): Promise<void> {
    for (const segment of await this.writer.unhintedSegments()) {
      if (this.closed) return;
      if (this.hintFailed.has(segment.id)) continue;
      const started = performance.now();
      let entries: number;
      try {
        const event = await this.runJob({
          kind: 'hint',
          dir: this.dir,
          control: this.newControl(),
          segment,
          bytesPerSecond: this.options.bytesPerSecond,
          blocks: this.blocks,
        });
        entries = event.kind === 'hinted' ? event.entries : 0;
      } catch (error) {
        if (this.closed) throw error;
        this.hintFailed.add(segment.id);
        this.log.error({ err: error, segment: segment.id }, 'compaction: cannot write a hint file');
        continue;
      }
      await this.writer.hintWritten(segment.id);
      this.onKeyRuns();
      this.log.info(
        {
          segment: segment.id,
          entries,
          bytes: segment.size,
          seconds: (performance.now() - started) / 1000,
        },
        'compaction: wrote hint file',
      );
    }
  }

  private newControl(): SharedArrayBuffer {
    this.control = new SharedArrayBuffer(4);
    if (this.closed) requestStop(this.control);
    return this.control;
  }

  /** Runs one job in a new compaction worker; resolves with its final event. */
  private runJob(
    job: CompactionJob,
    onProgress?: (bytesRead: number) => void,
  ): Promise<CompactionEvent> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('../workers/compaction-worker.js', import.meta.url), {
        workerData: job,
        execArgv: threadExecArgv(),
      });
      this.worker = worker;
      worker.once('exit', () => {
        if (this.worker === worker) this.worker = undefined;
        this.jobsEnded++;
      });
      let settled = false;
      worker.on('message', (event: CompactionEvent) => {
        if (event.kind === 'progress') {
          onProgress?.(event.bytesRead);
          return;
        }
        settled = true;
        if (event.kind === 'failed') reject(deserializeError(event.error));
        else resolve(event);
      });
      worker.on('error', (error) => {
        settled = true;
        reject(new KvError('KV_INTERNAL', `compaction worker crashed: ${error.message}`));
      });
      worker.on('exit', (code) => {
        if (!settled) reject(new KvError('KV_INTERNAL', `compaction worker exited (code ${code})`));
      });
      // After the listeners: adding a 'message' listener refs a Worker again.
      this.holdProcess();
    });
  }

  /**
   * Refs the running job's worker while a `compact()` is waiting, unrefs it otherwise. Between
   * jobs, the writer's pending calls hold the process (WriterLink).
   */
  private holdProcess(): void {
    if (this.waiting > 0) this.worker?.ref();
    else this.worker?.unref();
  }
}
