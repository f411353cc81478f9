// Owns the merge itself (Bitcask's "merge"): read the planned segments in replay order, copy
// every record the index still points at (and the tombstones that may still hide an older value)
// into one new merged segment with its hint file, both under temporary names and fsynced, and
// list the moves the writer must install. An expired record is dropped (or, where an older
// segment may hold a value it hides, kept as a tombstone without its value). A damaged stretch
// of an input is skipped and reported: the writer refuses the install if a live key points
// into it. Runs on the compaction worker; it only reads the index, never changes it.

import { join } from 'node:path';
import type { MergeDamage, MergePlan, MergeResult } from '../shared/compaction-messages.js';
import {
  clearRecordInBatch,
  encodeRecord,
  encodeSegmentHeader,
  KIND_MERGED,
  RECORD_HEADER_BYTES,
  recordExpiresAt,
  recordInBatch,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  sealRecord,
  segmentFileName,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import { HintBuilder, hintFileName } from '../shared/hint-format.js';
import type { IndexTable } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import { MoveListBuilder } from '../shared/merge-moves.js';
import { damagedRecordKey, walkIntactRecords } from '../shared/segment-scan.js';
import type { BlockCompressor } from '../shared/sorted-format.js';
import type { Throttle } from '../shared/throttle.js';
import { TEMP_SUFFIX, writeTemp } from './durable-file.js';
import { type FileSystem, nodeFileSystem, writeAll } from './file-system.js';
import { keyRunFromHint } from './key-run-writer.js';

/** Bytes buffered before each write of the output. */
const WRITE_CHUNK = 1024 * 1024;

/** Called with bytes read so far, out of the inputs' total. */
export type MergeProgress = (bytesRead: number, bytesTotal: number) => void;

/**
 * Writes the merge `plan` describes into `<output>.log.tmp`, `<output>.hint.tmp` and
 * `<output>.keys.tmp` in `dir` (fsynced, not renamed: installing is the writer's job), the key
 * run's blocks compressed by `compressor` where that pays (default: none). Throws `KV_CLOSED` if stopped, or the
 * I/O error; either way the temporary files are removed.
 */
export function mergeSegments(
  dir: string,
  index: IndexTable,
  plan: MergePlan,
  throttle: Throttle,
  progress: MergeProgress,
  files: FileSystem = nodeFileSystem,
  compressor?: BlockCompressor,
): MergeResult {
  const outName = segmentFileName(plan.outputId);
  const outPath = join(dir, outName + TEMP_SUFFIX);
  const fd = files.open(outPath, 'wx');
  try {
    const result = copyLive(files, fd, index, plan, dir, throttle, progress);
    files.fsync(fd);
    // The hint carries the log's sequence number at planning, so that a recovery from hints
    // never hands out again a number a dropped record (a batch commit, a tombstone) had.
    result.hint.noteSeq(plan.sequence);
    const hint = result.hint.finish(plan.outputId, result.size);
    const keys = keyRunFromHint(
      hint,
      plan.outputId,
      result.size,
      plan.first,
      plan.last,
      compressor,
    );
    writeTemp(files, dir, keysFileName(plan.outputId), keys);
    writeTemp(files, dir, hintFileName(plan.outputId), hint);
    return {
      size: result.size,
      moves: result.moves,
      records: result.records,
      tombstoneBytes: result.tombstoneBytes,
      bytesRead: result.bytesRead,
      damaged: result.damaged,
    };
  } catch (error) {
    removeQuietly(files, outPath);
    removeQuietly(files, join(dir, hintFileName(plan.outputId) + TEMP_SUFFIX));
    removeQuietly(files, join(dir, keysFileName(plan.outputId) + TEMP_SUFFIX));
    throw error;
  } finally {
    files.close(fd);
  }
}

function copyLive(
  files: FileSystem,
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
  damaged: MergeDamage[];
} {
  const out = new OutputBuffer(files, fd);
  const damaged: MergeDamage[] = [];
  out.append(encodeSegmentHeader(plan.outputId, KIND_MERGED, plan.first, plan.last), 0);
  const hint = new HintBuilder();
  const moves = new MoveListBuilder();
  let records = 0;
  let tombstoneBytes = 0;
  let bytesRead = 0;
  const bytesTotal = plan.inputs.reduce((n, s) => n + s.size, 0);

  for (const input of plan.inputs) {
    throttle.checkStop();
    const bytes = files.readFile(join(dir, segmentFileName(input.id)));
    const end = Math.min(bytes.length, input.size);
    let paced = 0; // the header counts as read
    const visit = (type: number, offset: number, length: number, seq: number) => {
      if (type !== TYPE_PUT && type !== TYPE_DELETE) return; // batch commits, sync marks
      const keyStart = offset + RECORD_HEADER_BYTES;
      const keyLength = recordKeyLength(bytes, offset);
      if (type === TYPE_PUT) {
        const tag = index.tagOfBytes(bytes, keyStart, keyStart + keyLength);
        if (!index.pointsAt(tag, input.handle, offset)) return; // overwritten or deleted
        const expiresAt = recordExpiresAt(bytes, offset);
        if (expiresAt !== 0 && expiresAt <= plan.now) {
          const move = { tag, fromHandle: input.handle, fromOffset: offset, length, keyLength };
          moves.add({ ...move, to: undefined, expiresAt });
          if (plan.dropTombstones) return;
          // It may hide an older value of the key: keep what hides it, without the value.
          const key = bytes.subarray(keyStart, keyStart + keyLength);
          const tombstone = encodeRecord(TYPE_DELETE, 0, seq, 0, key, new Uint8Array(0));
          const to = out.append(tombstone, 0);
          hint.add(
            TYPE_DELETE,
            tombstone,
            RECORD_HEADER_BYTES,
            keyLength,
            to,
            tombstone.length,
            seq,
          );
          tombstoneBytes += tombstone.length;
        } else {
          const to = out.append(bytes.subarray(offset, offset + length), seq);
          moves.add({
            tag,
            fromHandle: input.handle,
            fromOffset: offset,
            to,
            length,
            keyLength,
            expiresAt,
          });
          hint.add(type, bytes, keyStart, keyLength, to, length, seq, expiresAt);
        }
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
    };
    // A sealed segment's batches all committed, so every intact record counts (the index
    // says which puts are live). Damage is skipped here and judged by the writer.
    walkIntactRecords(bytes, SEGMENT_HEADER_BYTES, end, visit, ({ from, to }) => {
      const key = damagedRecordKey(bytes, from, to);
      damaged.push({
        segmentId: input.id,
        handle: input.handle,
        from,
        to,
        ...(key ? { key } : {}),
      });
    });
    throttle.spent(end - paced);
    bytesRead += end - paced;
    progress(bytesRead, bytesTotal);
  }
  out.flush();
  return {
    size: out.size,
    moves: moves.finish(),
    records,
    tombstoneBytes,
    bytesRead,
    hint,
    damaged,
  };
}

/** Buffers the output segment's bytes and writes them in large chunks. */
class OutputBuffer {
  private buffer = new Uint8Array(WRITE_CHUNK * 2);
  private used = 0;
  /** File offset of `buffer[0]`. */
  private flushed = 0;

  constructor(
    private readonly files: FileSystem,
    private readonly fd: number,
  ) {}

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
    if (seq !== 0 && recordInBatch(record, 0)) {
      clearRecordInBatch(this.buffer, at);
      sealRecord(this.buffer, at, seq);
    }
    this.used += record.length;
    return this.flushed + at;
  }

  flush(): void {
    if (this.used === 0) return;
    writeAll(this.files, this.fd, this.buffer.subarray(0, this.used), this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }
}

function removeQuietly(files: FileSystem, path: string): void {
  try {
    files.unlink(path);
  } catch {
    // already gone
  }
}
