// Owns the index snapshot on the writer's side: taking one (the slot array, the segment table
// and the log position, after an fdatasync so it only covers durable records), writing it
// crash-safely (at close, or in the background without stalling writes), and at open deciding
// whether the snapshot still describes the directory's segments and loading it if so. Any
// doubt (checksum, version, hash bits, a segment missing, changed or replaced, a log after it
// that does not continue its sequence) means "no snapshot": recovery then uses hint files and
// scans. Writer thread only.

import { join } from 'node:path';
import { faultPoint } from '../shared/fault-points.js';
import {
  dataFileName,
  decodeHeader,
  isRecordType,
  KIND_LOG,
  KIND_MERGED,
  KIND_SORTED,
  RECORD_HEADER_BYTES,
  recordType,
  segmentFileName,
} from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import { KEY_HASH_ID } from '../shared/key-bytes.js';
import type { Logger } from '../shared/logger.js';
import {
  decodeSnapshotParts,
  describeSnapshotFailure,
  encodeSnapshot,
  isLayoutFailure,
  isSnapshotFailure,
  SNAPSHOT_FILE,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_TRAILER_BYTES,
  type Snapshot,
  snapshotLayout,
} from '../shared/snapshot-format.js';
import { TEMP_SUFFIX, writeFileDurably } from './durable-file.js';
import { type FileSystem, readAll } from './file-system.js';
import type { Restored } from './recovery.js';
import type { Inventory } from './segment-inventory.js';
import type { SegmentTable } from './segments.js';
import { restoreSortedSegment } from './sorted-recovery.js';

/** A snapshot of the index as it is now. `resumeId`/`resumeFrom`: the active segment and its size. */
export function takeSnapshot(
  index: IndexTable,
  segments: SegmentTable,
  lastSeq: number,
  resumeId: number,
  resumeFrom: number,
): Snapshot {
  return {
    hashId: KEY_HASH_ID,
    hashBits: index.hashBits,
    capacity: index.capacity,
    count: index.count,
    deleted: index.deletedSlots,
    lastSeq,
    resumeId,
    resumeFrom,
    sweptAt: segments.sweptAt,
    segments: segments.list().map((s) => ({
      id: s.id,
      handle: s.handle,
      kind: s.kind,
      first: s.first,
      last: s.last,
      size: s.id === resumeId ? resumeFrom : s.size,
      liveKeys: s.liveKeys,
      hinted: s.hinted,
      liveBytes: s.liveBytes,
      tombstoneBytes: s.tombstoneBytes,
      expired: { ...s.expired },
      expiring: [...s.expiring].map(([second, t]) => ({ second, ...t })),
    })),
    slots: index.writerCopySlots(),
  };
}

/** Writes `snapshot` as INDEX-SNAPSHOT: temporary file, fsync, rename, directory fsync. */
export function writeSnapshot(files: FileSystem, dir: string, snapshot: Snapshot): void {
  writeFileDurably(files, dir, SNAPSHOT_FILE, 'snapshot-written', ...encodeSnapshot(snapshot));
}

/** The same as `writeSnapshot`, with the file I/O off the writer's thread (libuv's pool). */
export async function writeSnapshotInBackground(
  files: FileSystem,
  dir: string,
  snapshot: Snapshot,
): Promise<void> {
  const bg = files.background;
  const tmp = join(dir, SNAPSHOT_FILE + TEMP_SUFFIX);
  const fd = await bg.open(tmp, 'w');
  try {
    let pieces = encodeSnapshot(snapshot);
    let at = 0;
    while (pieces.length > 0) {
      // writev may write less than asked: go on from where it stopped.
      let n = await bg.writev(fd, pieces, at);
      at += n;
      while (pieces.length > 0 && n >= pieces[0]!.length) n -= pieces.shift()!.length;
      if (n > 0) pieces = [pieces[0]!.subarray(n), ...pieces.slice(1)];
    }
    await bg.fsync(fd);
  } finally {
    await bg.close(fd);
  }
  faultPoint('snapshot-written');
  await bg.rename(tmp, join(dir, SNAPSHOT_FILE));
  await bg.syncDirectory(dir);
}

/**
 * What open found of INDEX-SNAPSHOT: no file; a file it cannot read or use, and why; or the
 * snapshot, whose slot array has been read straight into the (empty, private) index.
 */
export type LoadedSnapshot =
  | { readonly found: false }
  | { readonly found: true; readonly problem: string }
  | { readonly found: true; readonly snapshot: Snapshot };

/**
 * Reads INDEX-SNAPSHOT: its head and trailer into small buffers, its slot array (most of the
 * file) directly into `index`'s memory, which must be private (no reader sees it yet). Reading
 * it whole into a Buffer first and copying touched twice as much fresh memory: 5M keys are a
 * 128 MiB slot array. Whatever it read is cleared again if the snapshot is not valid;
 * `restoreSnapshot` then decides whether it matches the directory.
 */
export function readSnapshotFile(
  files: FileSystem,
  dir: string,
  index: IndexTable,
): LoadedSnapshot {
  let fd: number;
  try {
    fd = files.open(join(dir, SNAPSHOT_FILE), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { found: false };
    return { found: true, problem: `cannot open it: ${String(error)}` };
  }
  let filled = false;
  try {
    const size = files.size(fd);
    const header = readAt(files, fd, 0, Math.min(size, SNAPSHOT_HEADER_BYTES));
    const layout = snapshotLayout(header, size);
    if (isLayoutFailure(layout)) return { found: true, problem: describeSnapshotFailure(layout) };
    const head = readAt(files, fd, 0, layout.slotsStart);
    const slots = index.writerRestoreTarget(layout.capacity);
    filled = true;
    const got = readAll(files, fd, slots, layout.slotsStart);
    const trailer = readAt(files, fd, layout.body, SNAPSHOT_TRAILER_BYTES);
    const snapshot =
      got === slots.length ? decodeSnapshotParts(layout, head, slots, trailer) : undefined;
    if (snapshot === undefined || isSnapshotFailure(snapshot)) {
      index.writerClearSlots();
      const why =
        snapshot === undefined
          ? 'the slot array was cut short while read'
          : describeSnapshotFailure(snapshot);
      return { found: true, problem: why };
    }
    return { found: true, snapshot };
  } catch (error) {
    if (filled) index.writerClearSlots();
    return { found: true, problem: `cannot read it: ${String(error)}` };
  } finally {
    files.close(fd);
  }
}

/** Up to `length` bytes of `fd` from `position` (fewer only at the file's end). */
function readAt(files: FileSystem, fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  return out.subarray(0, readAll(files, fd, out, position));
}

/**
 * Takes the snapshot `readSnapshotFile` loaded into the index and segment table if it matches
 * the directory's segments exactly; returns what it restored, or undefined (with a log line
 * saying why, the index emptied again) when recovery must rebuild without it.
 */
export function restoreSnapshot(
  loaded: LoadedSnapshot,
  inventory: Inventory,
  index: IndexTable,
  segments: SegmentTable,
  log: Logger,
): Restored | undefined {
  const dir = segments.dir;
  if (!loaded.found) {
    log.info('no index snapshot; rebuilding the index from hint files and segments');
    return undefined;
  }
  const problem =
    'problem' in loaded
      ? loaded.problem
      : mismatch(loaded.snapshot, inventory, index, segments.files, dir);
  if (problem !== undefined || !('snapshot' in loaded)) {
    // What was read into the index is not to be used.
    if ('snapshot' in loaded) index.writerClearSlots();
    log.warn(
      { reason: problem },
      'index snapshot not usable; rebuilding from hint files and segments',
    );
    return undefined;
  }
  const snapshot = loaded.snapshot;
  index.writerRestoreCounts(snapshot.count, snapshot.deleted);
  segments.restoreSweptAt(snapshot.sweptAt);
  for (const g of snapshot.segments) {
    const kind = g.kind === KIND_MERGED || g.kind === KIND_SORTED ? g.kind : KIND_LOG;
    const file = inventory.files.find((f) => f.header.id === g.id)!;
    const s = segments.add({ id: g.id, kind, first: g.first, last: g.last }, file.size, g.handle);
    if (kind === KIND_SORTED) restoreSortedSegment(segments, s, log);
    s.liveBytes = g.liveBytes;
    s.liveKeys = g.liveKeys;
    s.tombstoneBytes = g.tombstoneBytes;
    s.hinted = g.hinted;
    Object.assign(s.expired, g.expired);
    for (const e of g.expiring) {
      s.expiring.set(e.second, { bytes: e.bytes, keys: e.keys, keyBytes: e.keyBytes });
    }
  }
  log.info(
    { keys: snapshot.count, segments: snapshot.segments.length, lastSeq: snapshot.lastSeq },
    'loaded the index snapshot',
  );
  return {
    segmentIds: new Set(snapshot.segments.map((g) => g.id)),
    resumeId: snapshot.resumeId,
    resumeFrom: snapshot.resumeFrom,
    lastSeq: snapshot.lastSeq,
  };
}

/** Why the snapshot does not describe the directory, or undefined if it does. */
function mismatch(
  s: Snapshot,
  inventory: Inventory,
  index: IndexTable,
  files: FileSystem,
  dir: string,
): string | undefined {
  if (s.hashId !== KEY_HASH_ID)
    return `snapshot's tags are of key hash ${s.hashId}, not ${KEY_HASH_ID}`;
  if (s.hashBits !== index.hashBits) return `snapshot hashes keys to ${s.hashBits} bits`;
  const byId = new Map(inventory.files.map((f) => [f.header.id, f]));
  for (const g of s.segments) {
    const f = byId.get(g.id);
    const name = dataFileName(g.id, g.kind === KIND_SORTED ? KIND_SORTED : KIND_LOG);
    if (!f) return `${name} is gone (compacted after the snapshot?)`;
    const h = f.header;
    if (h.kind !== g.kind || h.first !== g.first || h.last !== g.last) return `${name} changed`;
    if (g.id === s.resumeId ? f.size < g.size : f.size !== g.size) {
      return `${name} has ${f.size} bytes, the snapshot knew ${g.size}`;
    }
  }
  if (!s.segments.some((g) => g.id === s.resumeId)) return 'snapshot names no resume segment';
  const known = new Set(s.segments.map((g) => g.id));
  for (const f of inventory.files) {
    if (!known.has(f.header.id) && f.header.first <= s.resumeId) {
      return `${f.name} is older than the snapshot but not in it`;
    }
  }
  return sequenceMismatch(s, files, dir);
}

/**
 * Checks the covered sequence: records get rising sequence numbers, so a record header right
 * after the snapshot's resume point must carry more than the snapshot's lastSeq (lastSeq + 1
 * unless a failed write used numbers up). A torn or preallocated tail there proves nothing
 * either way; the replay deals with it.
 */
function sequenceMismatch(s: Snapshot, files: FileSystem, dir: string): string | undefined {
  const head = new Uint8Array(RECORD_HEADER_BYTES);
  let n: number;
  try {
    const fd = files.open(join(dir, segmentFileName(s.resumeId)), 'r');
    try {
      n = files.read(fd, head, 0, head.length, s.resumeFrom);
    } finally {
      files.close(fd);
    }
  } catch (error) {
    return `cannot read the resume segment: ${String(error)}`;
  }
  if (n < RECORD_HEADER_BYTES) return undefined;
  if (!isRecordType(recordType(head, 0))) return undefined;
  const seq = decodeHeader(head, 0).seq;
  return seq > s.lastSeq
    ? undefined
    : `the log after the snapshot starts at sequence ${seq}, the snapshot covers up to ${s.lastSeq}`;
}
