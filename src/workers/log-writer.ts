// Owns appending to the log: stamp sequence numbers and CRCs on the records the caller laid
// out, rotate segments at the size limit (never inside an atomic batch), write each segment's
// share with one writev, sync per the durability policy, then publish to the shared index.
// Writer thread only.

import { join } from 'node:path';
import { ioError, KvError, type SerializedError, serializeError } from '../shared/errors.js';
import {
  MAX_RECORD_BYTES,
  recordType,
  SEGMENT_HEADER_BYTES,
  SYNC_MARK_BYTES,
  segmentFileName,
} from '../shared/format.js';
import type { SlotLocation } from '../shared/index-table.js';
import { LatencyHistogram, SYNC_LATENCY_BOUNDS } from '../shared/latency-histogram.js';
import type { Logger } from '../shared/logger.js';
import {
  type Durability,
  WRITE_FAILED,
  WRITE_OK_EXISTED,
  type WriteReply,
} from '../shared/messages.js';
import { RecordReader } from '../shared/record-reader.js';
import { CHECK_ALONE, isOpType, OP_CHECK, OP_REAP } from '../shared/write-ops.js';
import { ActiveFile, type ActiveSyncState, NEW_SEGMENT_SYNC } from './active-file.js';
import { Submissions } from './append-cursor.js';
import type { IndexPublisher } from './index-publisher.js';
import { operationAt, runOperation } from './operation-runner.js';
import { RecordFeed } from './record-feed.js';
import type { Segment, SegmentTable } from './segments.js';

/** The durability policy and rotation size the log writer follows. */
export interface LogWriterOptions {
  readonly durability: Durability;
  readonly segmentBytes: number;
  /** Largest value a read-modify-write operation may produce (default: the format's limit). */
  readonly maxValueBytes?: number;
}

/**
 * Appends to the active segment and publishes to the index. Writer thread only. I/O failures
 * become failed outcomes (`KV_IO`, `KV_DISK_FULL`); after a failure it cannot undo, it refuses
 * every later write with `KV_IO`.
 */
export class LogWriter {
  private active: Segment;
  /** The active segment's open file; after a rotation failed half way, the sealed one. */
  private file: ActiveFile;
  private lastSeq: number;
  /** Reads current values for read-modify-write operations (created on first use). */
  private reader: RecordReader | undefined;
  /** Copies of the records appended while the change feed is on (`startFeed`, `feed.take`). */
  readonly feed = new RecordFeed();
  private failure: KvError | undefined;
  /**
   * A version check (OP_CHECK) failed in buffer `buffer`: the atomic batch it guards, the next
   * record unit of that buffer, is refused with `error` instead of appended.
   */
  private conflict: { readonly buffer: number; readonly error: SerializedError } | undefined;
  /** Counters for stats(). */
  writes = 0;
  flushes = 0;
  syncs = 0;
  /** How long each fdatasync of the active segment took (every sync, seal and close). */
  readonly syncLatency = new LatencyHistogram(SYNC_LATENCY_BOUNDS);
  /** Expired keys deleted: by reads that found them (OP_REAP) and by the expiry cycle. */
  expiredKeys = 0;
  private readonly removedAfterCheck = (key: Uint8Array, since: number): boolean =>
    this.publisher.removedAfter(key, since);

  constructor(
    private readonly segments: SegmentTable,
    private readonly publisher: IndexPublisher,
    active: Segment,
    lastSeq: number,
    private options: LogWriterOptions,
    private readonly log: Logger,
    activeSync: ActiveSyncState = NEW_SEGMENT_SYNC,
  ) {
    this.active = active;
    this.lastSeq = lastSeq;
    this.file = this.openFile(active, activeSync);
    // Recovery is over: what is in the index now is what readers may see, and removals from
    // here on are remembered for version checks (removal-log.ts).
    publisher.index.writerSetPublishedSeq(lastSeq);
    publisher.trackRemovals = true;
  }

  get activeId(): number {
    return this.active.id;
  }

  /** When (`performance.now()`) a segment was last sealed by this writer; -Infinity: never. */
  sealedAt = Number.NEGATIVE_INFINITY;

  get sequence(): number {
    return this.lastSeq;
  }

  /** The durability mode appends follow now. */
  get durability(): Durability {
    return this.options.durability;
  }

  /**
   * Changes the durability mode for the appends after this one (CONFIG SET appendfsync).
   * Going to `always`, what is already written is synced first, so nothing acknowledged
   * before is left behind the new promise. Throws the writer's failure.
   */
  setDurability(durability: Durability): void {
    if (durability === 'always') this.sync();
    this.options = { ...this.options, durability };
  }

  /** Bytes of the active segment written so far. */
  get activeSize(): number {
    return this.active.size;
  }

  /**
   * Appends the records in `buffers` (laid out by the caller, seq and CRC zero) and publishes
   * them. Returns one reply per buffer. A failed segment write is cut back off the file, so the
   * log never holds a record the index and the caller were told failed.
   */
  append(buffers: readonly Uint8Array[]): WriteReply[] {
    const subs = new Submissions(buffers);
    while (!subs.done && !this.failure) {
      if (this.conflict && this.conflict.buffer !== subs.cursor.buffer) this.conflict = undefined;
      if (isOpType(recordType(subs.bytes, subs.unitStart()))) {
        this.applyOperation(subs);
      } else if (this.conflict) {
        subs.refuseUnit(this.conflict.error);
        this.conflict = undefined;
      } else {
        this.appendToActive(subs);
      }
    }
    this.conflict = undefined;
    // Whatever could not be appended (the writer failed) fails with the writer's error.
    if (!subs.done) subs.failRemaining(serializeError(this.failure));
    this.flushes++;
    return subs.replies();
  }

  /**
   * Evaluates the read-modify-write operation at `cursor` against the key's current value
   * (everything before it is already written and published) and appends the record it
   * produces, if any. Advances `cursor` past it.
   */
  private applyOperation(subs: Submissions): void {
    const op = operationAt(subs.bytes, subs.unitStart());
    const { buffer, record } = subs.cursor;
    subs.advance(1);
    const evaluation = runOperation(
      op,
      this.recordReader(),
      this.publisher.index,
      this.options.maxValueBytes ?? MAX_RECORD_BYTES,
      this.removedAfterCheck,
    );
    subs.results[buffer]![record] = evaluation.result;
    if (op.type === OP_REAP && evaluation.result.applied) this.expiredKeys++;
    if (op.type === OP_CHECK && evaluation.result.error && !(op.flags & CHECK_ALONE)) {
      subs.outcomes[buffer]![record] = WRITE_FAILED;
      this.conflict ??= { buffer, error: evaluation.result.error };
    }
    if (!evaluation.record) return;
    // The record the operation produced is a submission of its own, appended at once. It failed
    // if it is not all appended, or it has an error (one it could not even be parsed with, too).
    const own = new Submissions([evaluation.record]);
    if (own.errors[0] === undefined) this.appendToActive(own);
    if (!own.done || own.errors[0] !== undefined || own.outcomes[0]![0] === WRITE_FAILED) {
      subs.outcomes[buffer]![record] = WRITE_FAILED;
      subs.failBuffer(buffer, own.errors[0] ?? serializeError(this.failure));
    }
  }

  /**
   * This thread's reader of stored records (read-modify-write operations, the expiry cycle),
   * created on first use.
   */
  recordReader(): RecordReader {
    this.reader ??= new RecordReader(
      this.segments.dir,
      this.publisher.index,
      this.publisher.readMode,
    );
    return this.reader;
  }

  /**
   * Appends the expiry cycle's tombstones (laid out as a submission) for `count` expired keys,
   * as one more group commit; a failure is the writer's, as for any append.
   */
  appendExpired(tombstones: Uint8Array, count: number): void {
    const [reply] = this.append([tombstones]);
    if (!reply?.error) this.expiredKeys += count;
  }

  /** fdatasyncs the active segment now if anything is unsynced. */
  sync(): void {
    try {
      if (this.file.sync()) this.syncs++;
    } catch (error) {
      this.fail(ioError('fdatasync failed', error));
      throw this.failure;
    }
  }

  /** Background sync for `everysec` (see ActiveFile.syncInBackground). */
  syncInBackground(): void {
    this.file.syncInBackground((error) => {
      if (error) this.fail(ioError('background fdatasync failed', error));
      else this.syncs++;
    });
  }

  /**
   * Seals the active segment now if it holds any record, so that compaction can take it.
   * Throws the writer's failure if rotation failed.
   */
  sealActive(): void {
    if (this.active.size > SEGMENT_HEADER_BYTES) this.rotate();
    if (this.failure) throw this.failure;
  }

  /** Closes this thread's fds of retired segments (after a merge install). */
  /** Notes that a merge dropped the expired record at `from` of the key with `tag`. */
  noteDropped(tag: number, from: SlotLocation): void {
    this.publisher.noteDropped(tag, from);
  }

  sweepFds(): void {
    this.reader?.sweep();
    this.publisher.sweep();
  }

  /**
   * Syncs the active segment, ends it with a sync mark covering all of it (unless it already
   * ends in one), trims and closes its file.
   */
  close(): void {
    this.reader?.close();
    this.reader = undefined;
    try {
      if (!this.failure) this.writeFinalMark();
    } finally {
      this.file.close(this.active.size);
    }
  }

  /** Ends the active segment with a sync mark covering all of it (ActiveFile.writeFinalMark). */
  private writeFinalMark(): void {
    if (!this.file.needsFinalMark(this.active.size)) return;
    this.active.size = this.file.writeFinalMark(this.active.size, ++this.lastSeq);
  }

  /**
   * Writes units from `cursor` on into the active segment, rotating first if the next unit
   * does not fit, until the segment is full or the units run out. Advances `cursor`.
   */
  private appendToActive(subs: Submissions): void {
    const limit = this.options.segmentBytes;
    let mark = this.file.pendingMark(this.lastSeq + 1);
    const markBytes = mark ? SYNC_MARK_BYTES : 0;
    if (
      this.active.size > SEGMENT_HEADER_BYTES &&
      this.active.size + markBytes + subs.unitLength() > limit
    ) {
      this.rotate();
      if (this.failure) return;
      mark = this.file.pendingMark(this.lastSeq + 1);
    }
    const startSize = this.active.size;
    if (mark) this.lastSeq++; // the mark's sequence number, before its records'
    const { parsed } = subs;
    const { runs, size, records, puts } = subs.collectRuns(
      this.active.handle,
      startSize + (mark ? SYNC_MARK_BYTES : 0),
      limit,
      () => ++this.lastSeq,
    );
    try {
      // Room in the index first: once the bytes are on disk, publishing them must not fail.
      this.publisher.reserve(puts);
      if (this.options.durability === 'always') this.file.preallocate(size, startSize);
      const iov = runs.map((r) => parsed[r.buffer]!.bytes.subarray(r.start, r.end));
      if (mark) iov.unshift(mark.bytes);
      this.file.write(iov, startSize);
      this.active.size = size;
      if (mark) this.file.marked(mark.claim);
      if (this.options.durability === 'always') this.sync();
    } catch (error) {
      const failure = ioError(`append to ${segmentFileName(this.active.id)} failed`, error);
      this.log.error({ err: failure, file: segmentFileName(this.active.id) }, 'append failed');
      this.cutBack(startSize);
      const failed = serializeError(failure);
      for (const r of runs) subs.failRun(r, failed);
      return;
    }
    try {
      this.publisher.beginPublish();
      for (const r of runs) {
        const loc = { handle: r.handle, offset: r.offset };
        this.publisher.publishRecords(parsed[r.buffer]!.bytes, r.start, r.end, loc, (n) => {
          subs.outcomes[r.buffer]![r.firstRecord + n] = WRITE_OK_EXISTED;
        });
      }
      this.publisher.index.writerSetPublishedSeq(this.lastSeq);
      this.publisher.endPublish();
    } catch (error) {
      this.publisher.endPublish();
      // The records are on disk but a segment file became unreadable while checking keys:
      // stop writing; reopening rebuilds the index from the log.
      this.fail(
        error instanceof KvError ? error : ioError('publishing to the index failed', error),
      );
      throw this.failure;
    }
    this.writes += records;
    // Copies: the submitted buffers go back to the caller's pool.
    if (this.feed.on) for (const r of runs) this.feed.push(parsed[r.buffer]!.bytes, r.start, r.end);
  }

  /**
   * Starts keeping a copy of every record appended from now on (the change feed, `feed.take`);
   * returns the sequence number of the last record appended before: every later one is fed.
   */
  startFeed(): number {
    this.feed.start();
    return this.lastSeq;
  }

  /** Seals the active segment (final sync mark, trim, fdatasync, close) and starts the next one. */
  private rotate(): void {
    const old = this.active;
    try {
      this.writeFinalMark();
      this.file.seal(old.size);
      this.sealedAt = performance.now();
      this.active = this.segments.create();
      this.file = this.openFile(this.active, NEW_SEGMENT_SYNC);
      this.segments.publishKeyRunState(this.active.id);
    } catch (error) {
      this.fail(ioError('segment rotation failed', error));
      return;
    }
    this.log.info(
      { sealed: segmentFileName(old.id), bytes: old.size, next: segmentFileName(this.active.id) },
      'rotated segment',
    );
  }

  /** Truncates the active segment back to `size` after a failed write; if even that fails, stop writing. */
  private cutBack(size: number): void {
    try {
      this.file.cutBack(size);
    } catch (error) {
      this.fail(ioError('cannot cut a failed write back off the log', error));
    }
  }

  private fail(error: KvError): void {
    if (this.failure) return;
    this.failure = new KvError(
      'KV_IO',
      `the writer stopped after an I/O failure; reopen the store: ${error.message}`,
    );
    this.log.error({ err: error }, 'writer failed; refusing further writes');
  }

  private openFile(segment: Segment, sync: ActiveSyncState): ActiveFile {
    return new ActiveFile(
      this.segments.files,
      join(this.segments.dir, segmentFileName(segment.id)),
      this.log,
      segment.size,
      sync,
      this.syncLatency,
    );
  }
}

/** Moves the cursor past buffers with no units left. */
