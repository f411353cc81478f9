// Owns repair (`Store.open(dir, { repair: true })`, `kvd repair`): before recovery, read every
// segment whole, keep every intact record (a batch only whole: one with a damaged member is set
// aside as a unit), save each damaged stretch to a `.damaged-<offset>` file beside the segment,
// rewrite the segment without them, set aside a segment whose header is unreadable, and drop
// the derived files (hints of rewritten segments, the index snapshot) so recovery rebuilds
// them. Data segments (`.sst`) are checked and rewritten by sorted-repair.ts. Reports what was
// lost, with key names where they can still be read. Writer thread only.

import { join } from 'node:path';
import { ioError } from '../shared/errors.js';
import {
  decodeSegmentHeader,
  describeSegmentHeaderFailure,
  findNextRecord,
  isSegmentHeaderFailure,
  KIND_SORTED,
  parseSegmentFileName,
  parseSortedSegmentFileName,
  RECORD_HEADER_BYTES,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  scanRecord,
  TYPE_BATCH_COMMIT,
  TYPE_SYNC_MARK,
} from '../shared/format.js';
import { hintFileName } from '../shared/hint-format.js';
import { keysFileName } from '../shared/key-run-format.js';
import type { Logger } from '../shared/logger.js';
import type { RepairedRange, RepairReport } from '../shared/messages.js';
import {
  damagedRecordKey,
  isAllZero,
  scanEffects,
  walkIntactRecords,
} from '../shared/segment-scan.js';
import { SNAPSHOT_FILE } from '../shared/snapshot-format.js';
import { Throttle } from '../shared/throttle.js';
import { removeFilesDurably, writeFileDurably } from './durable-file.js';
import type { FileSystem } from './file-system.js';
import { writeSegmentHint } from './segment-hint.js';
import type { SegmentTable } from './segments.js';
import { saveAside } from './set-aside.js';
import { repairSortedSegment } from './sorted-repair.js';

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
    if (isSegmentHeaderFailure(header)) {
      // Cut short at creation (recovery removes it) or of an unknown version: not ours to touch.
      if (
        (id === maxId && bytes.length <= SEGMENT_HEADER_BYTES) ||
        header.reason === 'unsupported-version'
      ) {
        continue;
      }
      const lostKeys = keysIn(bytes, SEGMENT_HEADER_BYTES, bytes.length);
      const aside = saveAside(files, `${path}${DAMAGED_SUFFIX}`, bytes);
      removeFilesDurably(files, dir, [name, hintFileName(id), keysFileName(id)]);
      setAside.push(aside);
      damaged.push({
        file: name,
        offset: 0,
        bytes: bytes.length,
        savedTo: aside,
        lostKeys,
        reason: `unreadable segment header (${describeSegmentHeaderFailure(header)}); the whole file was set aside`,
      });
      log.warn(
        { file: name, reason: describeSegmentHeaderFailure(header), savedTo: aside },
        'repair: set aside a segment',
      );
      continue;
    }
    const plan = planSalvage(bytes, id === maxId);
    if (plan.damaged.length === 0 && plan.trimTo === bytes.length) continue;
    repaired++;
    for (const range of plan.damaged) {
      const savedTo = saveAside(
        files,
        `${path}.damaged-${range.from}`,
        bytes.subarray(range.from, range.to),
      );
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
    const kept = [
      bytes.subarray(0, SEGMENT_HEADER_BYTES),
      ...plan.kept.map(([a, b]) => bytes.subarray(a, b)),
    ];
    salvaged += plan.records;
    // Temporary file, fsync, rename, directory fsync: a crash leaves the old segment or the
    // new one (and the bytes set aside are durable before either).
    writeFileDurably(files, dir, name, 'repair-written', ...kept);
    removeFilesDurably(files, dir, [hintFileName(id), keysFileName(id)]);
  }
  const sortedIds = names
    .map((n) => parseSortedSegmentFileName(n))
    .filter((id): id is number => id !== undefined);
  for (const id of sortedIds) {
    const outcome = repairSortedSegment(files, dir, id, log);
    if (!outcome.repaired) continue;
    repaired++;
    salvaged += outcome.records;
    damaged.push(...outcome.damaged);
    setAside.push(...outcome.setAside);
  }
  // Derived files: the snapshot's slots and the rewritten segments' hints name old offsets.
  removeFilesDurably(files, dir, [SNAPSHOT_FILE]);
  const report: RepairReport = {
    segmentsChecked: ids.length + sortedIds.length,
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
    if (s.hinted || s.id === activeId || s.kind === KIND_SORTED) continue;
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

function read(files: FileSystem, path: string, name: string): Buffer {
  try {
    return files.readFile(path);
  } catch (error) {
    throw ioError(`repair: cannot read ${name}`, error);
  }
}
