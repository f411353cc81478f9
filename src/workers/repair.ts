// Owns repair (`Store.open(dir, { repair: true })`, `kvd repair`): before recovery, read every
// segment whole, keep every intact record (a batch only whole: one with a damaged member is set
// aside as a unit), save each damaged stretch to a `.damaged-<offset>` file beside the segment,
// rewrite the segment without them, set aside a segment whose header is unreadable, and drop
// the derived files (hints of rewritten segments, the index snapshot) so recovery rebuilds
// them. Reports what was lost, with key names where they can still be read. Writer thread only.

import { join } from 'node:path';
import { ioError } from '../shared/errors.js';
import {
  decodeSegmentHeader,
  findNextRecord,
  parseSegmentFileName,
  RECORD_HEADER_BYTES,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  scanRecord,
  TYPE_BATCH_COMMIT,
  TYPE_SYNC_MARK,
} from '../shared/format.js';
import { hintFileName } from '../shared/hint-format.js';
import type { Logger } from '../shared/logger.js';
import type { RepairedRange, RepairReport } from '../shared/messages.js';
import { damagedRecordKey, scanEffects, walkIntactRecords } from '../shared/segment-scan.js';
import { SNAPSHOT_FILE } from '../shared/snapshot-format.js';
import { Throttle } from '../shared/throttle.js';
import { removeFilesDurably, TEMP_SUFFIX } from './durable-file.js';
import { type FileSystem, writeAll } from './file-system.js';
import { writeSegmentHint } from './segment-hint.js';
import type { SegmentTable } from './segments.js';

/** Suffix of a segment set aside whole because its header cannot be read. */
export const DAMAGED_SUFFIX = '.damaged';

/**
 * Repairs the segments of `dir` in place (see the header comment); returns the report. Throws
 * `KV_IO` if a file cannot be read or written (a repair cut short by a crash can be run again:
 * each rewrite is a temporary file renamed over the segment).
 */
export function repairDirectory(files: FileSystem, dir: string, log: Logger): RepairReport {
  const names = files.readdir(dir);
  const ids = names
    .map((n) => parseSegmentFileName(n))
    .filter((id): id is number => id !== undefined)
    .sort((a, b) => a - b);
  const maxId = ids.at(-1) ?? 0;
  const damaged: RepairedRange[] = [];
  const setAside: string[] = [];
  let repaired = 0;
  let salvaged = 0;
  for (const id of ids) {
    const name = `${String(id).padStart(6, '0')}.log`;
    const path = join(dir, name);
    const bytes = read(files, path, name);
    const header = decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES), id);
    if (typeof header === 'string') {
      // Cut short at creation (recovery removes it) or of an unknown version: not ours to touch.
      if (
        (id === maxId && bytes.length <= SEGMENT_HEADER_BYTES) ||
        header.startsWith('unsupported')
      ) {
        continue;
      }
      const aside = freeName(files, `${path}${DAMAGED_SUFFIX}`);
      const lostKeys = keysIn(bytes, SEGMENT_HEADER_BYTES, bytes.length);
      files.rename(path, aside);
      removeFilesDurably(files, dir, [hintFileName(id)]);
      setAside.push(aside);
      damaged.push({
        file: name,
        offset: 0,
        bytes: bytes.length,
        savedTo: aside,
        lostKeys,
        reason: `unreadable segment header (${header}); the whole file was set aside`,
      });
      log.warn({ file: name, reason: header, savedTo: aside }, 'repair: set aside a segment');
      continue;
    }
    const plan = planSalvage(bytes, id === maxId);
    if (plan.damaged.length === 0 && plan.trimTo === bytes.length) continue;
    repaired++;
    for (const range of plan.damaged) {
      const savedTo = freeName(files, `${path}.damaged-${range.from}`);
      writeWhole(files, savedTo, bytes.subarray(range.from, range.to));
      const report: RepairedRange = {
        file: name,
        offset: range.from,
        bytes: range.to - range.from,
        savedTo,
        lostKeys: range.keys,
        reason: range.reason,
      };
      damaged.push(report);
      log.warn(report, 'repair: saved a damaged stretch aside and removed it from the segment');
    }
    files.syncDirectory(dir);
    const kept = [
      bytes.subarray(0, SEGMENT_HEADER_BYTES),
      ...plan.kept.map(([a, b]) => bytes.subarray(a, b)),
    ];
    salvaged += plan.records;
    writeWhole(files, path + TEMP_SUFFIX, ...kept);
    files.rename(path + TEMP_SUFFIX, path);
    files.syncDirectory(dir);
    removeFilesDurably(files, dir, [hintFileName(id)]);
  }
  // Derived files: the snapshot's slots and the rewritten segments' hints name old offsets.
  removeFilesDurably(files, dir, [SNAPSHOT_FILE]);
  const report: RepairReport = {
    segmentsChecked: ids.length,
    segmentsRepaired: repaired,
    recordsSalvaged: salvaged,
    damaged,
    setAside,
    lostKeys: [...new Set(damaged.flatMap((d) => d.lostKeys))],
  };
  log.info(
    { ...report, damaged: damaged.length, lostKeys: report.lostKeys.length },
    'repair finished',
  );
  return report;
}

/**
 * After a repair and the recovery that followed it: writes the hint file of every sealed
 * segment that has none (all but `activeId`), so the next open need not scan them. Returns how
 * many it wrote. Throws `KV_IO` or `KV_CORRUPTION` as `writeSegmentHint` does.
 */
export function writeMissingHints(segments: SegmentTable, activeId: number): number {
  const unlimited = new Throttle(new SharedArrayBuffer(4), 0);
  let written = 0;
  for (const s of segments.list()) {
    if (s.hinted || s.id === activeId) continue;
    writeSegmentHint(segments.dir, { id: s.id, size: s.size }, unlimited, segments.files);
    s.hinted = true;
    written++;
  }
  return written;
}

/** A damaged stretch to set aside, the keys it held (as far as they can be read), and why. */
interface DamagedStretch {
  from: number;
  to: number;
  keys: string[];
  reason: string;
}

/** What to keep of a segment: byte ranges of whole units, the stretches to set aside. */
interface SalvagePlan {
  readonly kept: [number, number][];
  readonly records: number;
  readonly damaged: DamagedStretch[];
  /** Where the kept bytes end in the original (past it: damage or preallocated zeros). */
  readonly trimTo: number;
}

/**
 * Splits a segment image into whole units to keep (records, and batches with their matching
 * commit) and damaged stretches to set aside. Sync marks are dropped from what is kept: their
 * offsets would not hold in the rewritten file, which is synced whole anyway. A zero tail of
 * the last segment is preallocated space, dropped without a report.
 */
function planSalvage(bytes: Uint8Array, isLast: boolean): SalvagePlan {
  const end = bytes.length;
  const kept: [number, number][] = [];
  const damaged: DamagedStretch[] = [];
  let records = 0;
  let pos = SEGMENT_HEADER_BYTES;
  let trimTo = end;
  while (pos < end) {
    const outcome = scanEffects(bytes, pos, end, () => {});
    keepRecords(bytes, pos, outcome.goodEnd, kept, (type) => {
      if (type !== TYPE_SYNC_MARK) records++;
    });
    if (outcome.goodEnd >= end) break;
    const from = outcome.goodEnd;
    if (isLast && isAllZero(bytes, from)) {
      trimTo = from;
      break;
    }
    const at = outcome.problemAt;
    const step = scanRecord(bytes, at, end);
    // A whole record where the scan stopped (a commit that does not match, or the start of a
    // batch that never committed) is set aside with the stretch; else skip to the next record.
    let to: number;
    if (step.kind === 'record') to = at + step.length;
    else {
      const next = findNextRecord(bytes, at + 1, end);
      to = next < 0 ? end : next;
    }
    const keys = keysIn(bytes, from, to);
    const guess = step.kind === 'record' ? undefined : damagedRecordKey(bytes, at, to);
    if (guess !== undefined && !keys.includes(guess))
      keys.push(`${guess} (as the damaged header reads)`);
    const previous = damaged.at(-1);
    if (previous && previous.to === from) {
      previous.to = to;
      previous.keys.push(...keys);
    } else damaged.push({ from, to, keys, reason: outcome.problem });
    pos = to;
  }
  return { kept, records, damaged, trimTo };
}

/** Appends to `kept` the ranges of the records of `[from, to)` other than sync marks. */
function keepRecords(
  bytes: Uint8Array,
  from: number,
  to: number,
  kept: [number, number][],
  count: (type: number) => void,
): void {
  walkIntactRecords(
    bytes,
    from,
    to,
    (type, offset, length) => {
      count(type);
      if (type === TYPE_SYNC_MARK) return;
      const last = kept.at(-1);
      if (last && last[1] === offset) last[1] = offset + length;
      else kept.push([offset, offset + length]);
    },
    () => {},
  );
}

/** The keys of the intact puts and tombstones in `[from, to)` (UTF-8, or 0x… hex). */
function keysIn(bytes: Uint8Array, from: number, to: number): string[] {
  const keys: string[] = [];
  walkIntactRecords(
    bytes,
    from,
    to,
    (type, offset) => {
      if (type === TYPE_SYNC_MARK || type === TYPE_BATCH_COMMIT) return;
      const key = damagedRecordKey(
        bytes,
        offset,
        offset + RECORD_HEADER_BYTES + recordKeyLength(bytes, offset),
      );
      if (key !== undefined) keys.push(key);
    },
    () => {},
  );
  return keys;
}

function isAllZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function read(files: FileSystem, path: string, name: string): Buffer {
  try {
    return files.readFile(path);
  } catch (error) {
    throw ioError(`repair: cannot read ${name}`, error);
  }
}

/** Writes `pieces` to a new file at `path` and fsyncs it. */
function writeWhole(files: FileSystem, path: string, ...pieces: Uint8Array[]): void {
  try {
    const fd = files.open(path, 'w');
    try {
      let at = 0;
      for (const piece of pieces) {
        writeAll(files, fd, piece, at);
        at += piece.length;
      }
      files.fsync(fd);
    } finally {
      files.close(fd);
    }
  } catch (error) {
    throw ioError(`repair: cannot write ${path}`, error);
  }
}

/** `path`, or `path.1`, `path.2`, … : never overwrite bytes an earlier repair saved. */
function freeName(files: FileSystem, path: string): string {
  let name = path;
  for (let n = 1; files.exists(name); n++) name = `${path}.${n}`;
  return name;
}
