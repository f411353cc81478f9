// Owns the merge itself (Bitcask's "merge", written as an SSTable): read the planned segments in
// replay order and choose every record the index still points at (and the tombstones that may
// still hide an older value), then write them in key order, one per key, as a data segment
// (`NNNNNN.sst`, point entries) with its key run, both under temporary names and fsynced, and
// list the moves the writer must install. An expired record is dropped (or, where an older
// segment may hold a value it hides, kept as a tombstone without its value). A damaged stretch
// of an input is skipped and reported: the writer refuses the install if a live key points
// into it. Runs on the compaction worker; it only reads the index, never changes it.

import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import type { MergeDamage, MergePlan, MergeResult } from '../shared/compaction-messages.js';
import {
  dataFileName,
  KIND_LOG,
  KIND_SORTED,
  sortedSegmentFileName,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import { buildKeyRunOf, keysFileName } from '../shared/key-run-format.js';
import { KeyPlaces } from '../shared/key-sort.js';
import { MoveListBuilder } from '../shared/merge-moves.js';
import type { BlockCompressor } from '../shared/sorted-format.js';
import { SortedSegmentWriter } from '../shared/sorted-segment-writer.js';
import type { Throttle } from '../shared/throttle.js';
import { TEMP_SUFFIX, writeTemp } from './durable-file.js';
import { type FileSystem, nodeFileSystem, writeAll } from './file-system.js';
import { type InputVisitor, walkLogInput, walkSortedInput } from './merge-inputs.js';
import {
  type MergeOutput,
  MergeOutputs,
  OUTPUT_DELETE,
  OUTPUT_EXPIRED,
  OUTPUT_PUT,
  RecordFetcher,
} from './merge-outputs.js';

/** Bytes buffered before each write of the output. */
const WRITE_CHUNK = 1024 * 1024;
const EMPTY = new Uint8Array(0);

/** Called with bytes read so far, out of the inputs' total. */
export type MergeProgress = (bytesRead: number, bytesTotal: number) => void;

/**
 * Writes the merge `plan` describes into `<output>.sst.tmp` and `<output>.keys.tmp` in `dir`
 * (fsynced, not renamed: installing is the writer's job), the key run's blocks compressed by
 * `compressor` where that pays, and so the data segment's values, each on its own (default:
 * none).
 * `mapInputs` (the store's read mode is `'mmap'`) lets it re-read records through maps of the
 * inputs; with `'pread'` the store was told no file may be mapped. Throws `KV_CLOSED` if
 * stopped, or the I/O error; either way the temporary files are removed.
 */
export function mergeSegments(
  dir: string,
  index: IndexTable,
  plan: MergePlan,
  throttle: Throttle,
  progress: MergeProgress,
  files: FileSystem = nodeFileSystem,
  compressor?: BlockCompressor,
  mapInputs = true,
): MergeResult {
  const outPath = join(dir, sortedSegmentFileName(plan.outputId) + TEMP_SUFFIX);
  const keysTemp = join(dir, keysFileName(plan.outputId) + TEMP_SUFFIX);
  const fetcher = new RecordFetcher(files, dir, plan.inputs, mapInputs);
  let fd: number | undefined;
  try {
    const chosen = chooseRecords(files, index, plan, dir, throttle, progress);
    fd = files.open(outPath, 'wx');
    const written = writeSorted(files, fd, fetcher, index, plan, chosen, throttle, compressor);
    files.fsync(fd);
    writeTemp(
      files,
      dir,
      keysFileName(plan.outputId),
      buildKeyRunOf(
        written.keys.columns(chosen.outputs.keyArena()),
        written.keys.count,
        plan.outputId,
        plan.first,
        plan.last,
        compressor,
      ),
    );
    return {
      size: written.size,
      overhead: written.overhead,
      moves: chosen.moves.finish(),
      records: written.records,
      tombstoneBytes: written.tombstoneBytes,
      bytesRead: chosen.bytesRead,
      damaged: chosen.damaged,
    };
  } catch (error) {
    removeQuietly(files, outPath);
    removeQuietly(files, keysTemp);
    throw error;
  } finally {
    fetcher.close();
    if (fd !== undefined) files.close(fd);
  }
}

/** What the first pass chose: the output's records, the drops, what it read and skipped. */
interface Chosen {
  readonly outputs: MergeOutputs;
  /** The drops of expired records (the writer removes those keys); the second pass adds moves. */
  readonly moves: MoveListBuilder;
  readonly bytesRead: number;
  readonly damaged: MergeDamage[];
}

/** First pass: walks each input in replay order and chooses what the output holds. */
function chooseRecords(
  files: FileSystem,
  index: IndexTable,
  plan: MergePlan,
  dir: string,
  throttle: Throttle,
  progress: MergeProgress,
): Chosen {
  const outputs = new MergeOutputs();
  const moves = new MoveListBuilder();
  const damaged: MergeDamage[] = [];
  let bytesRead = 0;
  const bytesTotal = plan.inputs.reduce((n, s) => n + s.size, 0);
  for (let number = 0; number < plan.inputs.length; number++) {
    const input = plan.inputs[number]!;
    throttle.checkStop();
    outputs.beginInput(number);
    const name = dataFileName(input.id, input.sorted ? KIND_SORTED : KIND_LOG);
    const bytes = files.readFile(join(dir, name));
    const end = Math.min(bytes.length, input.size);
    let paced = 0;
    const visit: InputVisitor = (
      type,
      src,
      keyStart,
      keyLength,
      offset,
      length,
      seq,
      expiresAt,
    ) => {
      if (type === TYPE_PUT) {
        const tag = index.tagOfBytes(src, keyStart, keyStart + keyLength);
        if (!index.pointsAt(tag, input.handle, offset)) return; // overwritten or deleted
        if (expiresAt !== 0 && expiresAt <= plan.now) {
          const from = { tag, fromHandle: input.handle, fromOffset: offset, length, keyLength };
          moves.add({ ...from, to: undefined, toLength: 0, expiresAt });
          // Unless no older segment exists, keep what hides an older value, without the value.
          if (!plan.dropTombstones) {
            outputs.add(OUTPUT_EXPIRED, src, keyStart, keyLength, offset, length, seq, 0);
          }
        } else {
          outputs.add(OUTPUT_PUT, src, keyStart, keyLength, offset, length, seq, expiresAt);
        }
      } else if (!plan.dropTombstones) {
        // A tombstone can only be dropped when no older segment may hold a value it hides.
        outputs.add(OUTPUT_DELETE, src, keyStart, keyLength, offset, length, seq, 0);
      }
      if (offset - paced >= WRITE_CHUNK) {
        throttle.spent(offset - paced);
        bytesRead += offset - paced;
        paced = offset;
        progress(bytesRead, bytesTotal);
      }
    };
    const onDamage = (from: number, to: number, key?: string): void => {
      damaged.push({
        segmentId: input.id,
        handle: input.handle,
        from,
        to,
        ...(key !== undefined ? { key } : {}),
      });
    };
    // A sealed segment's batches all committed, so every intact record counts (the index
    // says which puts are live). Damage is skipped here and judged by the writer.
    if (input.sorted) walkSortedInput(bytes.subarray(0, end), visit, onDamage);
    else walkLogInput(bytes, end, visit, onDamage);
    throttle.spent(end - paced);
    bytesRead += end - paced;
    progress(bytesRead, bytesTotal);
  }
  return { outputs, moves, bytesRead, damaged };
}

/** What the second pass wrote. */
interface Written {
  readonly size: number;
  readonly overhead: number;
  readonly records: number;
  readonly tombstoneBytes: number;
  /** Where the keys of the puts written lie in the outputs' arena, in key order. */
  readonly keys: KeyPlaces;
}

/**
 * Second pass: re-reads each chosen record (checksum checked again) in key order and writes
 * the data segment; adds a move for each put.
 */
function writeSorted(
  files: FileSystem,
  fd: number,
  fetcher: RecordFetcher,
  index: IndexTable,
  plan: MergePlan,
  chosen: Chosen,
  throttle: Throttle,
  compressor: BlockCompressor | undefined,
): Written {
  const { outputs, moves } = chosen;
  const writer = new SortedSegmentWriter({
    segmentId: plan.outputId,
    first: plan.first,
    last: plan.last,
    pointEntries: true,
    logSeq: plan.sequence,
    // Each value on its own, where that saves 1/8 (point-value.ts).
    ...(compressor ? { compressor } : {}),
  });
  const out = new ChunkWriter(files, fd);
  // Places, not views: half a million views kept to the end would be collected as old objects.
  const keys = new KeyPlaces();
  let records = 0;
  let entryBytes = 0;
  let tombstoneBytes = 0;
  for (const o of outputs.sorted()) {
    const key = outputs.keyOf(o);
    const chunk = writer.add(entryOf(o, key, fetcher));
    if (chunk) out.append(chunk);
    entryBytes += writer.lastEntryLength;
    records++;
    if (o.kind === OUTPUT_PUT) {
      keys.add(o.keyStart, o.keyLength);
      moves.add({
        tag: index.tagOfBytes(key, 0, key.length),
        fromHandle: plan.inputs[o.input]!.handle,
        fromOffset: o.offset,
        to: writer.lastEntryOffset,
        length: o.length,
        toLength: writer.lastEntryLength,
        keyLength: o.keyLength,
        expiresAt: o.expiresAt,
      });
    } else tombstoneBytes += writer.lastEntryLength;
    if (records % 4096 === 0) throttle.checkStop();
  }
  out.append(writer.finish());
  out.flush();
  const size = writer.bytesWritten;
  return { size, overhead: size - entryBytes, records, tombstoneBytes, keys };
}

/**
 * The entry the output holds for `o`: a put with its value re-read (decompressed if its input
 * stored it compressed: the output compresses by its own setting), or a tombstone.
 */
function entryOf(o: MergeOutput, key: Uint8Array, fetcher: RecordFetcher) {
  if (o.kind !== OUTPUT_PUT) {
    return { key, type: TYPE_DELETE, value: EMPTY, seq: o.seq, expiresAt: 0 } as const;
  }
  const bytes = fetcher.fetch(o.input, o.offset, o.length);
  const r = fetcher.record;
  return {
    key,
    type: TYPE_PUT,
    value: r.value(bytes),
    seq: o.seq,
    expiresAt: o.expiresAt,
  } as const;
}

/** Gathers the output's chunks and writes them in large pieces at increasing offsets. */
class ChunkWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private at = 0;

  constructor(
    private readonly files: FileSystem,
    private readonly fd: number,
  ) {}

  append(chunk: Uint8Array): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_CHUNK) this.flush();
  }

  flush(): void {
    if (this.pendingBytes === 0) return;
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    writeAll(this.files, this.fd, bytes, this.at);
    this.at += bytes.length;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

function removeQuietly(files: FileSystem, path: string): void {
  try {
    files.unlink(path);
  } catch {
    // already gone
  }
}
