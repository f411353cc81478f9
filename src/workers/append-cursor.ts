// Owns one append's submissions: the buffers submitted to the writer (parsed into units), the
// cursor that walks their units (buffer, unit, record number), and what each caller will be
// answered (an outcome per record, an error per buffer, operation results), with the helpers
// that read a unit's bounds, collect units into one segment write or mark them failed. Writer
// only.

import type { SerializedError } from '../shared/errors.js';
import {
  recordLengthAt,
  recordType,
  SEGMENT_HEADER_BYTES,
  sealRecord,
  TYPE_PUT,
} from '../shared/format.js';
import { WRITE_FAILED, type WriteReply } from '../shared/messages.js';
import { isOpType, type OpResult } from '../shared/write-ops.js';
import { countRecords, parseSubmissions, type WriteBuffer } from './write-buffer.js';

/**
 * A contiguous span of one submitted buffer written into one segment: records
 * [start, end) of buffer `buffer`, starting at file `offset`, the first being record number
 * `firstRecord` of that buffer.
 */
export interface Run {
  readonly buffer: number;
  readonly start: number;
  end: number;
  readonly handle: number;
  readonly offset: number;
  readonly firstRecord: number;
}

/** Where the next unit to append is: buffer index, unit index, and its first record number. */
export interface Cursor {
  /** Index of the current buffer in `parsed`. */
  buffer: number;
  /** Index of the current unit within that buffer (into its `unitEnds`). */
  unit: number;
  /** Number, within that buffer, of the unit's first record (an index into its outcomes). */
  record: number;
}

/** The buffers of one append, where it has got to in them, and what their callers are told. */
export class Submissions {
  readonly parsed: readonly WriteBuffer[];
  /** Per buffer, an outcome per record (all `WRITE_OK` to start with). */
  readonly outcomes: Uint8Array[];
  /** Per buffer, the first error met (a malformed buffer's from the start). */
  readonly errors: (SerializedError | undefined)[];
  /** Per buffer, the results of its read-modify-write operations, by record number. */
  readonly results: Record<number, OpResult>[];
  readonly cursor: Cursor = { buffer: 0, unit: 0, record: 0 };

  /** Parses `buffers` (write-buffer.ts) and moves to the first unit. */
  constructor(buffers: readonly Uint8Array[]) {
    const { parsed, outcomes, errors } = parseSubmissions(buffers);
    this.parsed = parsed;
    this.outcomes = outcomes;
    this.errors = errors;
    this.results = parsed.map(() => ({}));
    this.skipExhausted();
  }

  /** Whether every unit has been consumed. */
  get done(): boolean {
    return this.cursor.buffer >= this.parsed.length;
  }

  /** The bytes of the cursor's buffer. */
  get bytes(): Uint8Array {
    return this.parsed[this.cursor.buffer]!.bytes;
  }

  /** Byte offset, in the cursor's buffer, where the cursor's unit starts. */
  unitStart(): number {
    const { buffer, unit } = this.cursor;
    return unit === 0 ? 0 : this.parsed[buffer]!.unitEnds[unit - 1]!;
  }

  /** Bytes of the cursor's unit (a record, a whole batch with its commit, or one operation). */
  unitLength(): number {
    return this.parsed[this.cursor.buffer]!.unitEnds[this.cursor.unit]! - this.unitStart();
  }

  /** Moves past the cursor's unit, which holds `records` records. */
  advance(records: number): void {
    this.cursor.record += records;
    this.cursor.unit++;
    this.skipExhausted();
  }

  /** Records the first error of buffer `buffer` (later ones are dropped). */
  failBuffer(buffer: number, error: SerializedError): void {
    this.errors[buffer] ??= error;
  }

  /** Marks run `r`'s records failed with `error` (its segment write failed). */
  failRun(r: Run, error: SerializedError): void {
    const b = this.parsed[r.buffer]!.bytes;
    this.outcomes[r.buffer]!.fill(
      WRITE_FAILED,
      r.firstRecord,
      r.firstRecord + countRecords(b, r.start, r.end),
    );
    this.failBuffer(r.buffer, error);
  }

  /**
   * Marks the unit at the cursor failed with `error` without appending it (a batch whose version
   * check failed), and moves past it.
   */
  refuseUnit(error: SerializedError): void {
    const { buffer, record } = this.cursor;
    const start = this.unitStart();
    const end = start + this.unitLength();
    const records = countRecords(this.bytes, start, end);
    this.outcomes[buffer]!.fill(WRITE_FAILED, record, record + records);
    this.failBuffer(buffer, error);
    this.advance(records);
  }

  /** Marks every unit from the cursor on failed with `error` (the writer stopped). */
  failRemaining(error: SerializedError): void {
    const c = this.cursor;
    for (; c.buffer < this.parsed.length; c.buffer++, c.unit = 0, c.record = 0) {
      const p = this.parsed[c.buffer]!;
      if (p.unitEnds.length === 0) continue;
      const from = c.unit === 0 ? 0 : p.unitEnds[c.unit - 1]!;
      const records = countRecords(p.bytes, from, p.bytes.length);
      this.outcomes[c.buffer]!.fill(WRITE_FAILED, c.record, c.record + records);
      this.failBuffer(c.buffer, error);
    }
  }

  /**
   * Takes units from the cursor on into one append to segment `handle`, whose data would start
   * at `from`, while they fit under `limit` bytes (the first always fits) and until an
   * operation (which must see everything before it published) or the end. Stamps each record's
   * sequence number (`nextSeq`) and CRC. Returns the runs, the segment's size after them, how
   * many records and how many puts (keys the index may need room for) they hold. Advances the
   * cursor.
   */
  collectRuns(
    handle: number,
    from: number,
    limit: number,
    nextSeq: () => number,
  ): { runs: Run[]; size: number; records: number; puts: number } {
    const runs: Run[] = [];
    let size = from;
    let records = 0;
    let puts = 0;
    while (!this.done) {
      const c = this.cursor;
      const p = this.parsed[c.buffer]!;
      const start = this.unitStart();
      const end = p.unitEnds[c.unit]!;
      if (size > SEGMENT_HEADER_BYTES && size + (end - start) > limit) break;
      if (isOpType(recordType(p.bytes, start))) break;
      const b = p.bytes;
      let n = 0;
      for (let at = start; at < end; at += recordLengthAt(b, at), n++) {
        sealRecord(b, at, nextSeq());
        if (recordType(b, at) === TYPE_PUT) puts++;
      }
      const last = runs[runs.length - 1];
      if (last && last.buffer === c.buffer && last.end === start) last.end = end;
      else runs.push({ buffer: c.buffer, start, end, handle, offset: size, firstRecord: c.record });
      size += end - start;
      records += n;
      this.advance(n);
    }
    return { runs, size, records, puts };
  }

  /** One reply per buffer: its outcomes, its error and its operations' results, if any. */
  replies(): WriteReply[] {
    return this.outcomes.map((o, i) => ({
      outcomes: o,
      ...(this.errors[i] ? { error: this.errors[i] } : {}),
      ...(Object.keys(this.results[i]!).length > 0 ? { results: this.results[i]! } : {}),
    }));
  }

  /**
   * Moves the cursor past buffers with no unit left (including empty and malformed ones), to
   * the first unit still to append, resetting `unit` and `record` at each new buffer.
   */
  private skipExhausted(): void {
    const c = this.cursor;
    while (c.buffer < this.parsed.length && c.unit >= this.parsed[c.buffer]!.unitEnds.length) {
      c.buffer++;
      c.unit = 0;
      c.record = 0;
    }
  }
}
