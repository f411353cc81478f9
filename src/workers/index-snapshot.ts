// Owns the index snapshot on the writer's side: taking one (the slot array, the segment table
// and the log position, after an fdatasync so it only covers durable records), writing it
// crash-safely (at close, or in the background without stalling writes), and at open deciding
// whether the snapshot still describes the directory's segments and loading it if so. Any
// doubt (checksum, version, hash bits, a segment missing, changed or replaced, a log after it
// that does not continue its sequence) means "no snapshot": recovery then uses hint files and
// scans. Writer thread only.

import { closeSync, openSync, readSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { faultPoint } from '../shared/fault-points.js';
import {
  decodeHeader,
  KIND_LOG,
  KIND_MERGED,
  RECORD_HEADER_BYTES,
  recordType,
  segmentFileName,
  TYPE_BATCH_COMMIT,
  TYPE_PUT,
} from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import type { Logger } from '../shared/logger.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_FILE,
  type Snapshot,
} from '../shared/snapshot-format.js';
import { TEMP_SUFFIX, writeFileDurably } from './durable-file.js';
import type { Restored } from './recovery.js';
import type { Inventory } from './segment-inventory.js';
import type { SegmentTable } from './segments.js';

/** A snapshot of the index as it is now. `resumeId`/`resumeFrom`: the active segment and its size. */
export function takeSnapshot(
  index: IndexTable,
  segments: SegmentTable,
  lastSeq: number,
  resumeId: number,
  resumeFrom: number,
): Snapshot {
  return {
    hashBits: index.hashBits,
    capacity: index.capacity,
    count: index.count,
    deleted: index.deletedSlots,
    lastSeq,
    resumeId,
    resumeFrom,
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
    })),
    slots: index.writerCopySlots(),
  };
}

/** Writes `snapshot` as INDEX-SNAPSHOT: temporary file, fsync, rename, directory fsync. */
export function writeSnapshot(dir: string, snapshot: Snapshot): void {
  writeFileDurably(dir, SNAPSHOT_FILE, 'snapshot-written', ...encodeSnapshot(snapshot));
}

/** The same as `writeSnapshot`, with the file I/O off the writer's thread (libuv's pool). */
export async function writeSnapshotInBackground(dir: string, snapshot: Snapshot): Promise<void> {
  const tmp = join(dir, SNAPSHOT_FILE + TEMP_SUFFIX);
  const file = await open(tmp, 'w');
  try {
    await file.writev(encodeSnapshot(snapshot));
    await file.sync();
  } finally {
    await file.close();
  }
  faultPoint('snapshot-written');
  await rename(tmp, join(dir, SNAPSHOT_FILE));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Loads INDEX-SNAPSHOT into the (empty, private) index and segment table if it matches the
 * directory's segments exactly; returns what it restored, or undefined (with a log line saying
 * why) when recovery must rebuild without it.
 */
export async function readSnapshotFile(dir: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(join(dir, SNAPSHOT_FILE));
  } catch {
    return undefined;
  }
}

/** See readSnapshotFile; `bytes` is the file's content (undefined when there is none). */
export function restoreSnapshot(
  bytes: Uint8Array | undefined,
  inventory: Inventory,
  index: IndexTable,
  segments: SegmentTable,
  log: Logger,
): Restored | undefined {
  const dir = segments.dir;
  if (!bytes) {
    log.info('no index snapshot; rebuilding the index from hint files and segments');
    return undefined;
  }
  const snapshot = decodeSnapshot(bytes);
  const problem =
    typeof snapshot === 'string' ? snapshot : mismatch(snapshot, inventory, index, dir);
  if (problem !== undefined || typeof snapshot === 'string') {
    log.warn(
      { reason: problem },
      'index snapshot not usable; rebuilding from hint files and segments',
    );
    return undefined;
  }
  index.writerRestore(snapshot.capacity, snapshot.count, snapshot.deleted, snapshot.slots);
  for (const g of snapshot.segments) {
    const kind = g.kind === KIND_MERGED ? KIND_MERGED : KIND_LOG;
    const file = inventory.files.find((f) => f.header.id === g.id)!;
    const s = segments.add({ id: g.id, kind, first: g.first, last: g.last }, file.size, g.handle);
    s.liveBytes = g.liveBytes;
    s.liveKeys = g.liveKeys;
    s.tombstoneBytes = g.tombstoneBytes;
    s.hinted = g.hinted;
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
  dir: string,
): string | undefined {
  if (s.hashBits !== index.hashBits) return `snapshot hashes keys to ${s.hashBits} bits`;
  const files = new Map(inventory.files.map((f) => [f.header.id, f]));
  for (const g of s.segments) {
    const f = files.get(g.id);
    const name = segmentFileName(g.id);
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
  return sequenceMismatch(s, dir);
}

/**
 * Checks the covered sequence: records get rising sequence numbers, so a record header right
 * after the snapshot's resume point must carry more than the snapshot's lastSeq (lastSeq + 1
 * unless a failed write used numbers up). A torn or preallocated tail there proves nothing
 * either way; the replay deals with it.
 */
function sequenceMismatch(s: Snapshot, dir: string): string | undefined {
  const head = new Uint8Array(RECORD_HEADER_BYTES);
  let n: number;
  try {
    const fd = openSync(join(dir, segmentFileName(s.resumeId)), 'r');
    try {
      n = readSync(fd, head, 0, head.length, s.resumeFrom);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return `cannot read the resume segment: ${String(error)}`;
  }
  if (n < RECORD_HEADER_BYTES) return undefined;
  const type = recordType(head, 0);
  if (type < TYPE_PUT || type > TYPE_BATCH_COMMIT) return undefined;
  const seq = decodeHeader(head, 0).seq;
  return seq > s.lastSeq
    ? undefined
    : `the log after the snapshot starts at sequence ${seq}, the snapshot covers up to ${s.lastSeq}`;
}
