// Owns giving the memtable the keys written before this store was opened that no key run holds
// yet: those the active segment held at open, and of sealed or merged segments whose hint job
// has not run (a crash, or a store from before key runs). Every key written since open came
// through the memtable already, so segments made since open and the active segment's bytes past
// its size at open are not read. Done once, at the first range scan rather than at open (so
// open stays as fast as it was): each such segment file (or its part) is read and its records
// walked in order, on the caller's thread. Caller's thread.

import { Buffer } from 'node:buffer';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  RECORD_HEADER_BYTES,
  recordBytes,
  recordChecksumOk,
  recordKeyLength,
  recordType,
  recordValueLength,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
  TYPE_PUT,
} from '../shared/format.js';
import { MAX_SEGMENT_HANDLES } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import { walkIntactRecords } from '../shared/segment-scan.js';
import type { StoreEngine } from './store-engine.js';

/** The active segment when the store opened, and its size then (bytes; 0 if it had no file). */
export interface ActiveAtOpen {
  readonly id: number;
  readonly bytes: number;
}

/**
 * The active segment of a store just opened and its size: call before any write is sent, so
 * every put record past `bytes` (or in a later segment) came through the memtable.
 */
export function activeAtOpen(dir: string, activeId: number): ActiveAtOpen {
  try {
    return { id: activeId, bytes: statSync(join(dir, segmentFileName(activeId))).size };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { id: activeId, bytes: 0 };
    throw error;
  }
}

/** Fills `e.memtable` with the keys of segments without a key run, the first time only. */
export function fillMemtableOnce(e: StoreEngine): void {
  if (e.memtable.filled) return;
  const active = e.index.activeSegmentId;
  const atOpen = e.activeAtOpen;
  const keys: string[] = [];
  const seen = new Set<number>();
  for (let handle = 1; handle < MAX_SEGMENT_HANDLES; handle++) {
    const id = e.index.segments.idOf(handle);
    if (id === 0 || id > atOpen.id || seen.has(id)) continue;
    seen.add(id);
    if (existsSync(join(e.dir, keysFileName(id)))) continue;
    let bytes: Buffer;
    try {
      const path = join(e.dir, segmentFileName(id));
      bytes = id === atOpen.id ? readHead(path, atOpen.bytes) : readFileSync(path);
    } catch (error) {
      // Retired by a merge meanwhile: its keys are in the merged segment's run.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const keyOf = (at: number) => {
      const start = at + RECORD_HEADER_BYTES;
      keys.push(bytes.toString('latin1', start, start + recordKeyLength(bytes, at)));
    };
    if (id === active || id === atOpen.id) walkUntilInvalid(bytes, keyOf);
    else {
      walkIntactRecords(
        bytes,
        SEGMENT_HEADER_BYTES,
        bytes.length,
        (type, offset) => {
          if (type === TYPE_PUT) keyOf(offset);
        },
        ({ from }) => {
          e.index.noteDamagedRead();
          e.log.warn(
            { file: segmentFileName(id), offset: from },
            'a damaged record: range scans and keys() leave it out',
          );
        },
      );
    }
  }
  e.memtable.fill(keys, active);
  e.memtable.filled = true;
}

/**
 * The active segment's put records in order, up to the first that is not whole and valid: the
 * writer may be appending (its tail then holds writes made since open, which the memtable
 * already has), and under `always` the file is preallocated past its records.
 */
function walkUntilInvalid(bytes: Uint8Array, visit: (at: number) => void): void {
  let at = SEGMENT_HEADER_BYTES;
  while (at + RECORD_HEADER_BYTES <= bytes.length) {
    const length = recordBytes(recordKeyLength(bytes, at), recordValueLength(bytes, at));
    if (at + length > bytes.length || !recordChecksumOk(bytes, at, length)) return;
    if (recordType(bytes, at) === TYPE_PUT) visit(at);
    at += length;
  }
}

/** The first `length` bytes of the file at `path` (fewer if it is shorter). */
function readHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, got);
      if (n === 0) break;
      got += n;
    }
    return out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
