// Owns the merge itself (Bitcask's "merge"): read the planned segments in replay order, copy
// every record the index still points at (and the tombstones that may still hide an older value)
// into one new merged segment with its hint file, both under temporary names and fsynced, and
// list the moves the writer must install. Runs on the compaction worker; it only reads the
// index, never changes it.

import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  type MergePlan,
  type MergeResult,
  MOVE_DROP,
  MOVE_WORDS,
} from '../shared/compaction-messages.js';
import {
  encodeSegmentHeader,
  FLAG_IN_BATCH,
  KIND_MERGED,
  OFF_FLAGS,
  RECORD_HEADER_BYTES,
  recordExpiresAt,
  recordKeyLength,
  sealRecord,
  segmentFileName,
  TYPE_PUT,
} from '../shared/format.js';
import { HintBuilder, hintFileName } from '../shared/hint-format.js';
import type { IndexTable } from '../shared/index-table.js';
import { scanSealedSegment } from '../shared/segment-scan.js';
import type { Throttle } from '../shared/throttle.js';
import { TEMP_SUFFIX, writeAll, writeTemp } from './durable-file.js';

/** Bytes buffered before each write of the output. */
const WRITE_CHUNK = 1024 * 1024;

/** Called with bytes read so far, out of the inputs' total. */
export type MergeProgress = (bytesRead: number, bytesTotal: number) => void;

/**
 * Writes the merge `plan` describes into `<output>.log.tmp` and `<output>.hint.tmp` in `dir`
 * (fsynced, not renamed: installing is the writer's job). Throws `KV_CLOSED` if stopped, or the
 * I/O error; either way the temporary files are removed.
 */
export function mergeSegments(
  dir: string,
  index: IndexTable,
  plan: MergePlan,
  throttle: Throttle,
  progress: MergeProgress,
): MergeResult {
  const outName = segmentFileName(plan.outputId);
  const outPath = join(dir, outName + TEMP_SUFFIX);
  const fd = openSync(outPath, 'wx');
  try {
    const result = copyLive(fd, index, plan, dir, throttle, progress);
    fsyncSync(fd);
    // The hint carries the log's sequence number at planning, so that a recovery from hints
    // never hands out again a number a dropped record (a batch commit, a tombstone) had.
    result.hint.noteSeq(plan.sequence);
    writeTemp(dir, hintFileName(plan.outputId), result.hint.finish(plan.outputId, result.size));
    return {
      size: result.size,
      moves: result.moves,
      records: result.records,
      tombstoneBytes: result.tombstoneBytes,
      bytesRead: result.bytesRead,
    };
  } catch (error) {
    removeQuietly(outPath);
    removeQuietly(join(dir, hintFileName(plan.outputId) + TEMP_SUFFIX));
    throw error;
  } finally {
    closeSync(fd);
  }
}

function copyLive(
  fd: number,
  index: IndexTable,
  plan: MergePlan,
  dir: string,
  throttle: Throttle,
  progress: MergeProgress,
): {
  size: number;
  moves: Uint32Array;
  records: number;
  tombstoneBytes: number;
  bytesRead: number;
  hint: HintBuilder;
} {
  const out = new OutputBuffer(fd);
  out.append(encodeSegmentHeader(plan.outputId, KIND_MERGED, plan.first, plan.last), 0);
  const hint = new HintBuilder();
  let moves = new Uint32Array(MOVE_WORDS * 1024);
  let moveCount = 0;
  let records = 0;
  let tombstoneBytes = 0;
  let bytesRead = 0;
  const bytesTotal = plan.inputs.reduce((n, s) => n + s.size, 0);
  const addMove = (tag: number, handle: number, offset: number, to: number, length: number) => {
    if ((moveCount + 1) * MOVE_WORDS > moves.length) {
      const grown = new Uint32Array(moves.length * 2);
      grown.set(moves);
      moves = grown;
    }
    moves.set([tag, handle, offset, to, length], moveCount * MOVE_WORDS);
    moveCount++;
  };

  for (const input of plan.inputs) {
    throttle.checkStop();
    const bytes = readFileSync(join(dir, segmentFileName(input.id)));
    const end = Math.min(bytes.length, input.size);
    let paced = 0; // the header counts as read
    const name = segmentFileName(input.id);
    scanSealedSegment(bytes, end, name, (type, offset, length, seq) => {
      const keyStart = offset + RECORD_HEADER_BYTES;
      const keyLength = recordKeyLength(bytes, offset);
      if (type === TYPE_PUT) {
        const tag = index.tagOfBytes(bytes, keyStart, keyStart + keyLength);
        if (!index.pointsAt(tag, input.handle, offset)) return; // overwritten or deleted
        const expiresAt = recordExpiresAt(bytes, offset);
        if (plan.dropTombstones && expiresAt !== 0 && expiresAt <= plan.now) {
          addMove(tag, input.handle, offset, MOVE_DROP, length);
          return;
        }
        const to = out.append(bytes.subarray(offset, offset + length), seq);
        addMove(tag, input.handle, offset, to, length);
        hint.add(type, bytes, keyStart, keyLength, to, length, seq);
      } else {
        // A tombstone can only be dropped when no older segment may hold a value it hides.
        if (plan.dropTombstones) return;
        const to = out.append(bytes.subarray(offset, offset + length), seq);
        hint.add(type, bytes, keyStart, keyLength, to, length, seq);
        tombstoneBytes += length;
      }
      records++;
      if (offset - paced >= WRITE_CHUNK) {
        throttle.spent(offset - paced);
        bytesRead += offset - paced;
        paced = offset;
        progress(bytesRead, bytesTotal);
      }
    });
    throttle.spent(end - paced);
    bytesRead += end - paced;
    progress(bytesRead, bytesTotal);
  }
  out.flush();
  return {
    size: out.size,
    moves: moves.slice(0, moveCount * MOVE_WORDS),
    records,
    tombstoneBytes,
    bytesRead,
    hint,
  };
}

/** Buffers the output segment's bytes and writes them in large chunks. */
class OutputBuffer {
  private buffer = new Uint8Array(WRITE_CHUNK * 2);
  private used = 0;
  /** File offset of `buffer[0]`. */
  private flushed = 0;

  constructor(private readonly fd: number) {}

  get size(): number {
    return this.flushed + this.used;
  }

  /**
   * Appends a record (or the header, with seq 0) and returns its file offset. A record that was
   * part of an atomic batch is copied without the batch flag and resealed with its own seq:
   * the batch committed, and the merged segment holds no commit record for it.
   */
  append(record: Uint8Array, seq: number): number {
    if (this.used + record.length > this.buffer.length) {
      this.flush();
      if (record.length > this.buffer.length) this.buffer = new Uint8Array(record.length);
    }
    const at = this.used;
    this.buffer.set(record, at);
    if (seq !== 0 && (record[OFF_FLAGS]! & FLAG_IN_BATCH) !== 0) {
      this.buffer[at + OFF_FLAGS] = record[OFF_FLAGS]! & ~FLAG_IN_BATCH;
      sealRecord(this.buffer, at, seq);
    }
    this.used += record.length;
    return this.flushed + at;
  }

  flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd, this.buffer.subarray(0, this.used), this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
