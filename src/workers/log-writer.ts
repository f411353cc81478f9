// Owns appending to the log: stamp sequence numbers and CRCs on the records the caller laid
// out, rotate segments at the size limit (never inside an atomic batch), write each segment's
// share with one writev, sync per the durability policy, then publish to the shared index.
// Writer thread only.

import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { ioError, KvError, type SerializedError, serializeError } from '../shared/errors.js';
import {
  batchCommitCount,
  FLAG_IN_BATCH,
  RECORD_HEADER_BYTES,
  recordKeyLength,
  recordType,
  recordValueLength,
  SEGMENT_HEADER_BYTES,
  sealRecord,
  segmentFileName,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import type { Logger } from '../shared/logger.js';
import {
  type Durability,
  WRITE_FAILED,
  WRITE_OK_EXISTED,
  type WriteReply,
} from '../shared/messages.js';
import type { IndexPublisher } from './index-publisher.js';
import type { Segment, SegmentTable } from './segments.js';

/** A run of records that must land in one segment: a single record, or a whole batch. */
interface Unit {
  readonly buffer: number; // which submitted buffer
  readonly start: number;
  readonly end: number;
  readonly firstRecord: number; // record number within its buffer
}

/** A unit placed in a segment: the handle and file offset its first byte goes to. */
interface Placed {
  readonly unit: Unit;
  readonly handle: number;
  readonly offset: number;
}

export interface LogWriterOptions {
  readonly durability: Durability;
  readonly segmentBytes: number;
}

export class LogWriter {
  private active: Segment;
  private fd: number;
  private lastSeq: number;
  private dirty = false;
  private failure: KvError | undefined;
  /** Counters for stats(). */
  writes = 0;
  flushes = 0;
  syncs = 0;

  constructor(
    private readonly segments: SegmentTable,
    private readonly publisher: IndexPublisher,
    active: Segment,
    lastSeq: number,
    private readonly options: LogWriterOptions,
    private readonly log: Logger,
  ) {
    this.active = active;
    this.lastSeq = lastSeq;
    this.fd = this.openForAppend(active);
  }

  get activeId(): number {
    return this.active.id;
  }

  get sequence(): number {
    return this.lastSeq;
  }

  /**
   * Appends the records in `buffers` (laid out by the caller, seq and CRC zero) and publishes
   * them. Returns one reply per buffer. A failed segment write is cut back off the file, so the
   * log never holds a record the index and the caller were told failed.
   */
  append(buffers: readonly Uint8Array[]): WriteReply[] {
    const outcomes = buffers.map((b) => new Uint8Array(countRecords(b)));
    const errors: (SerializedError | undefined)[] = buffers.map(() => undefined);
    const units: Unit[] = [];
    buffers.forEach((b, i) => {
      try {
        splitUnits(b, i, units);
      } catch (error) {
        outcomes[i]!.fill(WRITE_FAILED);
        errors[i] = serializeError(error);
      }
    });
    let next = 0;
    while (next < units.length && !this.failure) {
      next = this.appendToActive(buffers, units, next, outcomes, errors);
    }
    for (let u = next; u < units.length; u++) {
      const unit = units[u]!;
      markFailed(buffers[unit.buffer]!, unit, outcomes[unit.buffer]!);
      errors[unit.buffer] ??= serializeError(this.failure);
    }
    this.flushes++;
    return buffers.map((_, i) =>
      errors[i] ? { outcomes: outcomes[i]!, error: errors[i] } : { outcomes: outcomes[i]! },
    );
  }

  /** fdatasyncs the active segment now if anything is unsynced. */
  sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      fdatasyncSync(this.fd);
      this.syncs++;
    } catch (error) {
      this.fail(ioError('fdatasync failed', error));
      throw this.failure;
    }
  }

  /**
   * Background sync for `everysec`: fdatasync through a separate fd owned by this call, so a
   * rotation that closes the append fd meanwhile cannot make us sync a reused fd number.
   */
  syncInBackground(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const fd = this.openForSync(this.active);
    fdatasync(fd, (error) => {
      closeSync(fd);
      if (error) this.fail(ioError('background fdatasync failed', error));
      else this.syncs++;
    });
  }

  /** Syncs and closes the active segment's fd. */
  close(): void {
    try {
      if (this.dirty) fdatasyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }

  /** Writes units from `first` on into the active segment, rotating first if needed. Returns the next unit. */
  private appendToActive(
    buffers: readonly Uint8Array[],
    units: readonly Unit[],
    first: number,
    outcomes: Uint8Array[],
    errors: (SerializedError | undefined)[],
  ): number {
    const limit = this.options.segmentBytes;
    if (
      this.active.size > SEGMENT_HEADER_BYTES &&
      this.active.size + units[first]!.end - units[first]!.start > limit
    ) {
      this.rotate();
      if (this.failure) return first;
    }
    const startSize = this.active.size;
    const placed: Placed[] = [];
    const iov: Uint8Array[] = [];
    let size = startSize;
    let u = first;
    for (; u < units.length; u++) {
      const unit = units[u]!;
      const length = unit.end - unit.start;
      if (size > SEGMENT_HEADER_BYTES && size + length > limit) break;
      const b = buffers[unit.buffer]!;
      for (let at = unit.start; at < unit.end; at += recordLengthAt(b, at))
        sealRecord(b, at, ++this.lastSeq);
      placed.push({ unit, handle: this.active.handle, offset: size });
      // Units of one buffer are contiguous: extend the previous iovec instead of adding one.
      const prev = placed[placed.length - 2]?.unit;
      if (prev && prev.buffer === unit.buffer && prev.end === unit.start) {
        const last = iov[iov.length - 1]!;
        iov[iov.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + length);
      } else {
        iov.push(b.subarray(unit.start, unit.end));
      }
      size += length;
    }
    try {
      // Room in the index first: once the bytes are on disk, publishing them must not fail.
      this.publisher.reserve(
        placed.reduce((n, p) => n + countRecordsIn(buffers[p.unit.buffer]!, p.unit), 0),
      );
      writeAllv(this.fd, iov, startSize);
      this.active.size = size;
      this.dirty = true;
      if (this.options.durability === 'always') this.sync();
    } catch (error) {
      const failure = ioError(`append to ${segmentFileName(this.active.id)} failed`, error);
      this.log.error({ err: failure, file: segmentFileName(this.active.id) }, 'append failed');
      this.cutBack(startSize);
      for (const p of placed) {
        markFailed(buffers[p.unit.buffer]!, p.unit, outcomes[p.unit.buffer]!);
        errors[p.unit.buffer] ??= serializeError(failure);
      }
      return u;
    }
    try {
      for (const p of placed) this.publish(buffers[p.unit.buffer]!, p, outcomes[p.unit.buffer]!);
    } catch (error) {
      // The records are on disk but the index could not take them all (a segment file became
      // unreadable): stop writing; reopening rebuilds the index from the log.
      this.fail(
        error instanceof KvError ? error : ioError('publishing to the index failed', error),
      );
      throw this.failure;
    }
    this.writes += placed.length;
    return u;
  }

  private publish(b: Uint8Array, p: Placed, outcomes: Uint8Array): void {
    let record = p.unit.firstRecord;
    for (let at = p.unit.start; at < p.unit.end; record++) {
      const length = recordLengthAt(b, at);
      const type = recordType(b, at);
      const keyLength = recordKeyLength(b, at);
      const offset = p.offset + (at - p.unit.start);
      let existed = false;
      if (type === TYPE_PUT) {
        existed = this.publisher.put(b, at + RECORD_HEADER_BYTES, keyLength, {
          handle: p.handle,
          offset,
          length,
        });
      } else if (type === TYPE_DELETE) {
        existed = this.publisher.remove(b, at + RECORD_HEADER_BYTES, keyLength);
      }
      if (existed) outcomes[record] = WRITE_OK_EXISTED;
      at += length;
    }
  }

  /** Seals the active segment (fdatasync, close) and starts the next one. */
  private rotate(): void {
    const old = this.active;
    try {
      fdatasyncSync(this.fd);
      closeSync(this.fd);
      this.dirty = false;
      this.active = this.segments.create(old.id + 1);
      this.fd = this.openForAppend(this.active);
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
      ftruncateSync(this.fd, size);
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

  private openForAppend(segment: Segment): number {
    return openSync(join(this.segments.dir, segmentFileName(segment.id)), 'r+');
  }

  private openForSync(segment: Segment): number {
    return openSync(join(this.segments.dir, segmentFileName(segment.id)), 'r');
  }
}

function recordLengthAt(b: Uint8Array, at: number): number {
  return RECORD_HEADER_BYTES + recordKeyLength(b, at) + recordValueLength(b, at);
}

function countRecordsIn(b: Uint8Array, unit: Unit): number {
  let n = 0;
  for (let at = unit.start; at < unit.end; at += recordLengthAt(b, at)) n++;
  return n;
}

function countRecords(b: Uint8Array): number {
  let n = 0;
  for (let at = 0; at + RECORD_HEADER_BYTES <= b.length; at += recordLengthAt(b, at)) n++;
  return n;
}

/** Splits a submitted buffer into units, checking that it is well formed. Throws `KV_INTERNAL`. */
function splitUnits(b: Uint8Array, buffer: number, out: Unit[]): void {
  let record = 0;
  let batchStart = -1;
  let batchFirst = 0;
  let batchCount = 0;
  for (let at = 0; at < b.length; ) {
    if (b.length - at < RECORD_HEADER_BYTES) throw malformed('trailing bytes');
    const length = recordLengthAt(b, at);
    const type = recordType(b, at);
    if (at + length > b.length) throw malformed('record overruns the buffer');
    if (type !== TYPE_PUT && type !== TYPE_DELETE && type !== TYPE_BATCH_COMMIT)
      throw malformed(`type ${type}`);
    if (b[at + 5]! & FLAG_IN_BATCH) {
      if (batchStart < 0) {
        batchStart = at;
        batchFirst = record;
        batchCount = 0;
      }
      batchCount++;
    } else if (type === TYPE_BATCH_COMMIT) {
      if (batchCommitCount(b, at) !== batchCount) throw malformed('batch commit count');
      out.push({
        buffer,
        start: batchStart < 0 ? at : batchStart,
        end: at + length,
        firstRecord: batchStart < 0 ? record : batchFirst,
      });
      batchStart = -1;
      batchCount = 0;
    } else {
      if (batchStart >= 0) throw malformed('a plain record inside a batch');
      out.push({ buffer, start: at, end: at + length, firstRecord: record });
    }
    at += length;
    record++;
  }
  if (batchStart >= 0) throw malformed('batch without commit');
}

function malformed(what: string): KvError {
  return new KvError('KV_INTERNAL', `malformed write buffer: ${what}`);
}

function markFailed(b: Uint8Array, unit: Unit, outcomes: Uint8Array): void {
  let record = unit.firstRecord;
  for (let at = unit.start; at < unit.end; at += recordLengthAt(b, at))
    outcomes[record++] = WRITE_FAILED;
}

/** writev that retries short writes until every byte is written at `position`. */
function writeAllv(fd: number, iov: Uint8Array[], position: number): void {
  let pending = iov;
  let pos = position;
  while (pending.length > 0) {
    let n = writevSync(fd, pending, pos);
    pos += n;
    const rest: Uint8Array[] = [];
    for (const chunk of pending) {
      if (n >= chunk.length) n -= chunk.length;
      else {
        rest.push(n > 0 ? chunk.subarray(n) : chunk);
        n = 0;
      }
    }
    pending = rest;
  }
}
