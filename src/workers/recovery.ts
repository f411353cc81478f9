// Owns start-up recovery: rebuild the shared index from the segments in replay order (after an
// index snapshot, if one restored part of it), each from its hint file or by scanning it (atomic
// batches apply only with their commit record); cut a torn tail off the last segment (keeping
// the cut bytes aside in a .torn file); refuse to open when a sealed segment is damaged.
// Writer thread only.

import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import {
  KIND_LOG,
  RECORD_HEADER_BYTES,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  TYPE_PUT,
} from '../shared/format.js';
import { hintFileName, readHint } from '../shared/hint-format.js';
import type { SlotLocation } from '../shared/index-table.js';
import type { Logger } from '../shared/logger.js';
import { scanEffects } from '../shared/segment-scan.js';
import { removeFilesDurably, syncDirectory } from './durable-file.js';
import type { IndexPublisher } from './index-publisher.js';
import { type Inventory, type SegmentFile, takeInventory } from './segment-inventory.js';
import type { Segment, SegmentTable } from './segments.js';

export { listSegmentIds } from './segment-inventory.js';

/** What recovery found. */
export interface RecoveryResult {
  /** The last log segment (to keep appending to), if the newest segment is one. */
  readonly last: Segment | undefined;
  readonly lastSeq: number;
  readonly records: number;
  readonly truncatedBytes: number;
  /** Segments loaded from their hint file, scanned, and restored from an index snapshot. */
  readonly hinted: number;
  readonly scanned: number;
  readonly restored: number;
}

/**
 * What an index snapshot restored before the replay: the segments it covered (already in the
 * segment table and the index) and where the log after it starts.
 */
export interface Restored {
  readonly segmentIds: ReadonlySet<number>;
  /** The log segment the snapshot was taken in, replayed from `resumeFrom` on. */
  readonly resumeId: number;
  readonly resumeFrom: number;
  readonly lastSeq: number;
}

/**
 * Rebuilds the index from the segments in `dir` through `publisher`: takes stock of the files
 * (segment-inventory.ts), lets `restore` load an index snapshot if it can, then replays every
 * segment it did not cover, from its hint file when a valid one exists, else by scanning it.
 * Throws `KV_CORRUPTION` naming the file and offset if a sealed segment is damaged.
 */
export function recover(
  segments: SegmentTable,
  publisher: IndexPublisher,
  log: Logger,
  restore?: (inventory: Inventory) => Restored | undefined,
  progress: (done: number, total: number) => void = () => {},
): RecoveryResult {
  const dir = segments.dir;
  const started = performance.now();
  const inventory = takeInventory(dir, log);
  segments.noteId(inventory.maxId);
  const restored = restore?.(inventory);
  const files = inventory.files;
  const newest = files[files.length - 1];
  const lastLog = newest?.header.kind === KIND_LOG ? newest : undefined;
  let lastSeq = restored?.lastSeq ?? 0;
  let records = 0;
  let truncatedBytes = 0;
  let hinted = 0;
  let scanned = 0;
  let bytesRead = 0;
  let last: Segment | undefined;
  let progressAt = started;
  const bytesTotal = files.reduce((n, f) => n + f.size, 0);
  let bytesDone = 0;
  progress(0, bytesTotal);

  for (const file of files) {
    if (bytesDone > 0) progress(bytesDone, bytesTotal);
    bytesDone += file.size;
    const id = file.header.id;
    const isLast = file === lastLog;
    let segment: Segment;
    let from = 0;
    if (restored?.segmentIds.has(id)) {
      segment = segments.byFileId(id)!;
      if (id !== restored.resumeId) {
        if (isLast) last = segment;
        continue;
      }
      from = restored.resumeFrom;
    } else {
      segment = segments.add(file.header, file.size);
      if (!isLast) {
        const loaded = loadHint(segments, publisher, segment, log);
        if (loaded !== undefined) {
          hinted++;
          records += loaded.records;
          if (loaded.maxSeq > lastSeq) lastSeq = loaded.maxSeq;
          continue;
        }
      } else {
        // The writer appends to it: a hint for it (left by an earlier open) would go stale.
        removeFilesDurably(dir, [hintFileName(id)]);
      }
    }
    const replay = replaySegment(segments, publisher, segment, file, from, isLast, log);
    scanned++;
    bytesRead += file.size - from;
    records += replay.records;
    truncatedBytes += replay.truncatedBytes;
    if (replay.lastSeq > lastSeq) lastSeq = replay.lastSeq;
    if (isLast) last = segment;
    if (performance.now() - progressAt > 1000) {
      progressAt = performance.now();
      log.info(
        { file: file.name, bytesRead, seconds: (progressAt - started) / 1000 },
        'recovering',
      );
    }
  }
  publisher.clearWindow();
  progress(bytesTotal, bytesTotal);
  const seconds = (performance.now() - started) / 1000;
  log.info(
    {
      segments: files.length,
      restored: restored?.segmentIds.size ?? 0,
      hinted,
      scanned,
      bytesRead,
      records,
      truncatedBytes,
      seconds,
    },
    'recovery finished',
  );
  return {
    last,
    lastSeq,
    records,
    truncatedBytes,
    hinted,
    scanned,
    restored: restored?.segmentIds.size ?? 0,
  };
}

/**
 * Replays segment `file` from its hint file into the index. Returns undefined (and logs why)
 * when the hint is missing or not valid for the segment, so the caller scans it instead.
 */
function loadHint(
  segments: SegmentTable,
  publisher: IndexPublisher,
  segment: Segment,
  log: Logger,
): { records: number; maxSeq: number } | undefined {
  const name = hintFileName(segment.id);
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(segments.dir, name));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    log.info(
      { file: name, reason: missing ? 'missing' : String(error) },
      'no usable hint file; scanning the segment',
    );
    return undefined;
  }
  const hint = readHint(bytes, segment.id, segment.size);
  if (typeof hint === 'string') {
    log.warn({ file: name, reason: hint }, 'bad hint file; scanning the segment instead');
    return undefined;
  }
  const handle = segment.handle;
  hint.forEach((type, b, keyStart, keyLength, offset, length) => {
    applyEffect(segments, publisher, type, b, keyStart, keyLength, { handle, offset, length });
  });
  segment.hinted = true;
  return { records: hint.entries, maxSeq: hint.maxSeq };
}

/** Applies one put or tombstone (from a hint or a scan) to the index and the accounting. */
function applyEffect(
  segments: SegmentTable,
  publisher: IndexPublisher,
  type: number,
  key: Uint8Array,
  keyStart: number,
  keyLength: number,
  loc: SlotLocation,
): void {
  if (type === TYPE_PUT) {
    publisher.put(key, keyStart, keyLength, loc);
  } else {
    publisher.remove(key, keyStart, keyLength);
    segments.addTombstone(loc.handle, loc.length);
  }
}

/** Scans segment `file` from byte `from` (0: from its first record) into the index. */
function replaySegment(
  segments: SegmentTable,
  publisher: IndexPublisher,
  segment: Segment,
  file: SegmentFile,
  from: number,
  isLast: boolean,
  log: Logger,
): { records: number; lastSeq: number; truncatedBytes: number } {
  const name = file.name;
  const path = join(segments.dir, name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw ioError(`cannot read ${name}`, error);
  }
  const start = Math.max(from, SEGMENT_HEADER_BYTES);
  const handle = segment.handle;
  publisher.setWindow(handle, 0, bytes);
  const outcome = scanEffects(bytes, start, bytes.length, (type, offset, length) => {
    const keyLength = recordKeyLength(bytes, offset);
    const keyStart = offset + RECORD_HEADER_BYTES;
    applyEffect(segments, publisher, type, bytes, keyStart, keyLength, { handle, offset, length });
  });
  let truncatedBytes = 0;
  const cutAt = outcome.goodEnd;
  if (cutAt < bytes.length) {
    if (!isLast) {
      throw new KvError(
        'KV_CORRUPTION',
        `${name} at offset ${outcome.problemAt}: ${outcome.problem}`,
      );
    }
    if (isAllZero(bytes, cutAt)) {
      // Space the writer preallocated under `always` (zeros are never a valid record).
      trimFile(path, name, cutAt);
      log.info(
        { file: name, offset: cutAt, bytes: bytes.length - cutAt },
        'trimmed preallocated space',
      );
    } else {
      truncatedBytes = cutTornTail(path, name, bytes, cutAt, outcome.problem, log);
    }
    segment.size = cutAt;
  }
  return { records: outcome.effects, lastSeq: outcome.lastSeq, truncatedBytes };
}

function isAllZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Truncates a segment file to `size` and fsyncs it. */
function trimFile(path: string, name: string, size: number): void {
  try {
    truncateSync(path, size);
    const fd = openSync(path, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw ioError(`cannot trim ${name}`, error);
  }
}

/** Saves `bytes[cutAt..]` beside the segment, then truncates the segment there and fsyncs it. */
function cutTornTail(
  path: string,
  name: string,
  bytes: Uint8Array,
  cutAt: number,
  reason: string,
  log: Logger,
): number {
  const cut = bytes.length - cutAt;
  let aside = `${path}.torn-${cutAt}`;
  try {
    // Never overwrite bytes an earlier recovery saved: they may be the only copy.
    for (let n = 1; existsSync(aside); n++) aside = `${path}.torn-${cutAt}.${n}`;
    const fd = openSync(aside, 'wx');
    try {
      writeFileSync(fd, bytes.subarray(cutAt));
      fsyncSync(fd); // the saved copy is durable before the segment loses those bytes
    } finally {
      closeSync(fd);
    }
    syncDirectory(dirname(path));
    trimFile(path, name, cutAt);
  } catch (error) {
    throw ioError(`cannot cut the torn tail of ${name}`, error);
  }
  log.warn(
    { file: name, offset: cutAt, bytesCut: cut, reason, savedTo: aside },
    'cut a torn tail off the last segment',
  );
  return cut;
}
