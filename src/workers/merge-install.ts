// Owns installing a finished merge on the writer thread: refuse it if a live key still points
// into a damaged stretch the merge skipped, commit the merged segment (rename its hint and then
// the segment into place, fsync the directory: from here a crash keeps the merge), register it,
// move each key to it by compare-and-set in slices (writes run between slices; a key they
// change keeps its new location), then retire the inputs once no reader can be reading them
// and remove their files. Writer thread only.

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { InstallOutcome, MergePlan, MergeResult } from '../shared/compaction-messages.js';
import { KvError } from '../shared/errors.js';
import { faultPoint } from '../shared/fault-points.js';
import {
  dataFileName,
  KIND_SORTED,
  segmentFileName,
  sortedSegmentFileName,
} from '../shared/format.js';
import { hintFileName } from '../shared/hint-format.js';
import type { IndexTable, SlotLocation } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import { moveAt, moveCount } from '../shared/merge-moves.js';
import type { VersionLog } from '../shared/version-log.js';
import { commitTemp, removeFilesDurably, TEMP_SUFFIX } from './durable-file.js';
import { type Segment, SegmentTable } from './segments.js';
import { markAllLiveIfSo } from './sorted-recovery.js';

/** Moves installed per slice before letting queued writes run. */
const SLICE = 32_768;
/** How long retirement waits for keys() calls to release their pins before giving up. */
const PIN_WAIT_MS = 30_000;

/**
 * Installs `result` of `plan`; `onDropped` hears of each expired record it takes out of the
 * index (for the removal log, before the input is retired). Throws `KV_INTERNAL` if an input is no longer registered (a
 * bug), or the I/O error of the commit; a failure before the commit leaves the inputs in place.
 */
export async function installMerge(
  segments: SegmentTable,
  index: IndexTable,
  plan: MergePlan,
  result: MergeResult,
  onDropped: (tag: number, from: SlotLocation) => void = () => {},
  versions?: VersionLog,
): Promise<InstallOutcome> {
  const inputs: Segment[] = plan.inputs.map((i) => {
    const s = segments.byFileId(i.id);
    if (!s || s.handle !== i.handle) {
      throw new KvError('KV_INTERNAL', `merge input ${segmentFileName(i.id)} is gone`);
    }
    return s;
  });
  const dir = segments.dir;
  const files = segments.files;
  try {
    refuseLiveDamage(index, result.damaged);
  } catch (error) {
    const temps = [sortedSegmentFileName(plan.outputId), keysFileName(plan.outputId)];
    removeFilesDurably(
      files,
      dir,
      temps.map((name) => name + TEMP_SUFFIX),
    );
    throw error;
  }
  faultPoint('merge-before-commit');
  commitTemp(files, dir, keysFileName(plan.outputId));
  faultPoint('merge-hint-committed');
  commitTemp(files, dir, sortedSegmentFileName(plan.outputId));
  files.syncDirectory(dir);
  faultPoint('merge-committed');
  const output = segments.add(
    { id: plan.outputId, kind: KIND_SORTED, first: plan.first, last: plan.last },
    result.size,
    undefined,
    result.overhead,
  );
  output.hinted = true;
  output.tombstoneBytes = result.tombstoneBytes;

  let moved = 0;
  let superseded = 0;
  let dropped = 0;
  const m = result.moves;
  const count = moveCount(m);
  const halfway = Math.floor(count / 2);
  for (let i = 0; i < count; i++) {
    if (i === halfway) faultPoint('merge-installing');
    const move = moveAt(m, i);
    const from = { handle: move.fromHandle, offset: move.fromOffset, length: move.length };
    if (move.to === undefined) {
      // Noted before the slot changes: a snapshot read finds the version in the log by then.
      if (index.writerRemoveIf(move.tag, from, () => onDropped(move.tag, from))) {
        segments.removeLive(from, move.expiresAt, move.keyLength);
        dropped++;
      }
    } else {
      const to = { handle: output.handle, offset: move.to, length: move.toLength };
      if (index.writerReplaceIf(move.tag, from, to)) {
        segments.removeLive(from, move.expiresAt, move.keyLength);
        segments.addLive(to, move.expiresAt, move.keyLength);
        moved++;
      } else superseded++;
    }
    if (i % SLICE === SLICE - 1) await nextTurn();
  }
  faultPoint('merge-installed');
  // Every put entry moved in, none superseded or displaced since: scans may skip the index.
  markAllLiveIfSo(segments, output);
  const stillLive = inputs.filter((s) => s.liveKeys !== 0);
  if (stillLive.length > 0) {
    // Cannot happen while the merge copies everything the index points at; keep the files (and
    // their handles) so no read fails, and say so loudly.
    throw new KvError(
      'KV_INTERNAL',
      `retired segments still held live keys: ${stillLive.map((s) => SegmentTable.fileName(s)).join(', ')}`,
    );
  }
  await waitForPins(index);
  if (versions) {
    versions.writerSetPinnedBytes(inputs.reduce((n, s) => n + s.size, 0));
    try {
      await waitForSnapshots(versions);
    } finally {
      versions.writerSetPinnedBytes(0);
    }
  }
  index.writerLockAll();
  try {
    for (const s of inputs) segments.retire(s);
    index.segments.writerBumpEpoch();
  } finally {
    index.writerUnlockAll();
  }
  removeFilesDurably(
    files,
    dir,
    inputs.flatMap((s) => [SegmentTable.fileName(s), hintFileName(s.id), keysFileName(s.id)]),
  );
  faultPoint('merge-retired');
  return {
    moved,
    superseded,
    dropped,
    retiredBytes: inputs.reduce((n, s) => n + s.size, 0),
    damagedRanges: result.damaged.length,
    damagedBytes: result.damaged.reduce((n, d) => n + d.to - d.from, 0),
  };
}

/**
 * Throws `KV_CORRUPTION` if a live key's record lies in a damaged stretch the merge skipped:
 * retiring the input would then lose the key without a trace. Once the key is deleted or
 * written again (or `kvd repair` has run), a merge skips the damage. Checked here, on the
 * writer, where no write can change the index during the walk.
 */
function refuseLiveDamage(index: IndexTable, damaged: MergeResult['damaged']): void {
  if (damaged.length === 0) return;
  let hit: (typeof damaged)[number] | undefined;
  let hitOffset = 0;
  index.forEachSlot((_tag, handle, offset) => {
    if (hit) return;
    for (const d of damaged) {
      if (d.handle === handle && offset >= d.from && offset < d.to) {
        hit = d;
        hitOffset = offset;
        return;
      }
    }
  });
  if (!hit) return;
  const key = hit.key !== undefined ? ` (its header names key ${JSON.stringify(hit.key)})` : '';
  throw new KvError(
    'KV_CORRUPTION',
    `${hitName(index, hit)} at offset ${hitOffset}: the live record of a key is damaged${key}; ` +
      'delete or overwrite that key, or run kvd repair, and compaction will skip the damage',
  );
}

/** The file name of the damaged input `d` (a data segment or a log segment). */
function hitName(index: IndexTable, d: MergeResult['damaged'][number]): string {
  return index.segments.isSorted(d.handle)
    ? dataFileName(d.segmentId, KIND_SORTED)
    : segmentFileName(d.segmentId);
}

/**
 * Waits (without blocking writes) until no snapshot is held: a snapshot may need versions in
 * the inputs (displaced ones, or the key runs it walks). Store.close releases every snapshot,
 * and an unreleased one times out, so this ends.
 */
async function waitForSnapshots(versions: VersionLog): Promise<void> {
  await versions.whenNoneHeld();
}

/** Waits (without blocking writes) until no keys() call holds a copy of old locations. */
async function waitForPins(index: IndexTable): Promise<void> {
  if (!(await index.segments.whenUnpinned(PIN_WAIT_MS))) {
    throw new KvError('KV_INTERNAL', 'segment retirement waited too long for keys() calls');
  }
}
