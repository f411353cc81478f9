// Owns start-up recovery: rebuild the shared index from the segments in replay order (after an
// index snapshot, if one restored part of it), each from its hint file or by scanning it (atomic
// batches apply only with their commit record). In the last segment it tells a torn tail (after
// the last byte known synced: sync marks, the snapshot's resume point) from damage: a torn tail
// is cut (the bytes kept aside, a report of any valid records after it), damage is refused like
// damage in a sealed segment (KV_CORRUPTION naming file, offset and the records that follow).
// Writer thread only.

import { join } from 'node:path';
import { ioError } from '../shared/errors.js';
import {
  FORMAT_VERSION,
  KIND_LOG,
  KIND_SORTED,
  RECORD_HEADER_BYTES,
  recordExpiresAt,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  TYPE_PUT,
} from '../shared/format.js';
import {
  describeHintFailure,
  hintFileName,
  isHintFailure,
  readHint,
} from '../shared/hint-format.js';
import type { SlotLocation } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import type { Logger } from '../shared/logger.js';
import { damageError, isAllZero, scanEffects, surveyDamage } from '../shared/segment-scan.js';
import { removeFilesDurably } from './durable-file.js';
import type { IndexPublisher } from './index-publisher.js';
import { type Inventory, type SegmentFile, takeInventory } from './segment-inventory.js';
import type { Segment, SegmentTable } from './segments.js';
import { saveAside, syncFile, trimFile } from './set-aside.js';
import { replaySortedSegment } from './sorted-recovery.js';

/** A torn tail recovery cut off the last segment. */
export interface TornTail {
  /** The segment's file name. */
  readonly file: string;
  /** Where the cut starts (everything before it was kept). */
  readonly offset: number;
  /** Bytes cut off. */
  readonly bytes: number;
  /**
   * Whole, valid records among the cut bytes: after a power loss, pages can reach the disk out
   * of order, so a write after a torn one may have landed (its caller was never told it was
   * durable: it lay after the last synced byte).
   */
  readonly recordsAfter: number;
  /** Where the cut bytes were saved. */
  readonly savedTo: string;
}

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
  /** Of the last log segment (`last`): the largest synced byte count known (marks, snapshot). */
  readonly lastSyncedThrough: number;
  /** Of `last`: the end of a final sync mark that covers every byte before it (else 0). */
  readonly lastFullMarkEnd: number;
  /** The torn tail cut off the last segment, if there was one. */
  readonly tornTail?: TornTail;
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
  const fs = segments.files;
  const started = performance.now();
  const inventory = takeInventory(fs, dir, log);
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
  let lastSyncedThrough = 0;
  let lastFullMarkEnd = 0;
  let tornTail: TornTail | undefined;
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
      if (file.header.kind === KIND_SORTED) {
        const replayed = replaySortedSegment(segments, publisher, segment, log);
        hinted++;
        records += replayed.records;
        if (replayed.maxSeq > lastSeq) lastSeq = replayed.maxSeq;
        continue;
      }
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
        removeFilesDurably(fs, dir, [hintFileName(id), keysFileName(id)]);
      }
    }
    const replay = replaySegment(segments, publisher, segment, file, from, isLast, log);
    scanned++;
    bytesRead += file.size - from;
    records += replay.records;
    truncatedBytes += replay.tornTail?.bytes ?? 0;
    if (replay.lastSeq > lastSeq) lastSeq = replay.lastSeq;
    if (isLast) {
      last = segment;
      lastSyncedThrough = replay.syncedThrough;
      lastFullMarkEnd = replay.fullMarkEnd;
      tornTail = replay.tornTail;
    }
    if (performance.now() - progressAt > 1000) {
      progressAt = performance.now();
      log.info(
        { file: file.name, bytesRead, seconds: (progressAt - started) / 1000 },
        'recovering',
      );
    }
  }
  publisher.clearWindow();
  if (last && lastLog && (lastLog.header.version ?? FORMAT_VERSION) < FORMAT_VERSION) {
    // Written by an older format: never append newer record types to it. Sync it (it may hold
    // bytes a crash left unsynced) so it can be sealed; the writer starts a new segment.
    syncFile(fs, join(dir, lastLog.name), lastLog.name);
    log.info({ file: lastLog.name }, 'sealed a segment of an older format version');
    last = undefined;
  }
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
    lastSyncedThrough,
    lastFullMarkEnd,
    ...(tornTail ? { tornTail } : {}),
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
    bytes = segments.files.readFile(join(segments.dir, name));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    log.info(
      { file: name, reason: missing ? 'missing' : String(error) },
      'no usable hint file; scanning the segment',
    );
    return undefined;
  }
  const hint = readHint(bytes, segment.id, segment.size);
  if (isHintFailure(hint)) {
    log.warn(
      { file: name, reason: describeHintFailure(hint) },
      'bad hint file; scanning the segment instead',
    );
    return undefined;
  }
  const handle = segment.handle;
  hint.forEach((type, b, keyStart, keyLength, offset, length, _seq, expiresAt) => {
    const loc = { handle, offset, length };
    applyEffect(segments, publisher, type, b, keyStart, keyLength, loc, expiresAt);
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
  expiresAt: number,
): void {
  if (type === TYPE_PUT) {
    publisher.put(key, keyStart, keyLength, loc, expiresAt);
  } else {
    publisher.remove(key, keyStart, keyLength);
    segments.addTombstone(loc.handle, loc.length);
  }
}

/** What replaying one segment found. */
interface Replay {
  readonly records: number;
  readonly lastSeq: number;
  readonly syncedThrough: number;
  readonly fullMarkEnd: number;
  readonly tornTail?: TornTail;
}

/**
 * Scans segment `file` from byte `from` (0: from its first record; else a snapshot's resume
 * point, which was synced) into the index. A sealed segment must be whole. The last one may
 * end in a torn write, but only after the last byte known synced: anything it cannot read at
 * or before that byte is damage, and open fails (FORMAT.md, "Recovery").
 */
function replaySegment(
  segments: SegmentTable,
  publisher: IndexPublisher,
  segment: Segment,
  file: SegmentFile,
  from: number,
  isLast: boolean,
  log: Logger,
): Replay {
  const name = file.name;
  const path = join(segments.dir, name);
  const files = segments.files;
  let bytes: Buffer;
  try {
    bytes = files.readFile(path);
  } catch (error) {
    throw ioError(`cannot read ${name}`, error);
  }
  const start = Math.max(from, SEGMENT_HEADER_BYTES);
  const handle = segment.handle;
  publisher.setWindow(handle, 0, bytes);
  const outcome = scanEffects(bytes, start, bytes.length, (type, offset, length) => {
    const keyLength = recordKeyLength(bytes, offset);
    const keyStart = offset + RECORD_HEADER_BYTES;
    const loc = { handle, offset, length };
    applyEffect(
      segments,
      publisher,
      type,
      bytes,
      keyStart,
      keyLength,
      loc,
      recordExpiresAt(bytes, offset),
    );
  });
  let syncedThrough = Math.max(outcome.syncedThrough, from);
  let lastSeq = outcome.lastSeq;
  const cutAt = outcome.goodEnd;
  if (cutAt === bytes.length) {
    // Nothing after a snapshot's resume point: the snapshot already says all of it is synced.
    const fullMarkEnd = from > 0 && cutAt === from ? from : outcome.fullMarkEnd;
    return { records: outcome.effects, lastSeq, syncedThrough, fullMarkEnd };
  }
  if (!isLast) throw damageError(bytes, bytes.length, name, outcome);
  const survey = surveyDamage(bytes, outcome.problemAt, bytes.length);
  syncedThrough = Math.max(syncedThrough, survey.syncedThrough);
  lastSeq = Math.max(lastSeq, survey.lastSeq); // never hand out a number a cut record had
  if (cutAt < syncedThrough) {
    throw damageError(
      bytes,
      bytes.length,
      name,
      outcome,
      ` (the segment was synced through byte ${syncedThrough}, so this is damage, not a torn write)`,
    );
  }
  let tornTail: TornTail | undefined;
  if (isAllZero(bytes, cutAt)) {
    // Space the writer preallocated under `always` (zeros are never a valid record).
    trimFile(files, path, name, cutAt);
    log.info(
      { file: name, offset: cutAt, bytes: bytes.length - cutAt },
      'trimmed preallocated space',
    );
  } else {
    // The saved copy is durable before the segment loses those bytes.
    const savedTo = saveAside(files, `${path}.torn-${cutAt}`, bytes.subarray(cutAt));
    trimFile(files, path, name, cutAt);
    tornTail = {
      file: name,
      offset: cutAt,
      bytes: bytes.length - cutAt,
      recordsAfter: survey.recordsAfter,
      savedTo,
    };
    log.warn(
      {
        ...tornTail,
        reason: outcome.problem,
        syncedThrough,
      },
      survey.recordsAfter > 0
        ? `cut a torn tail off the last segment; ${survey.recordsAfter} whole, valid records were among the cut bytes (written after the last sync, so never reported durable: pages of an unsynced tail can reach the disk out of order, and a batch without its commit never took effect)`
        : 'cut a torn tail off the last segment',
    );
  }
  segment.size = cutAt;
  return { records: outcome.effects, lastSeq, syncedThrough, fullMarkEnd: 0, tornTail };
}
