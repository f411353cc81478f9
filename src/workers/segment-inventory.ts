// Owns deciding, at open, which files of a data directory are the store: it removes temporary
// files a crash left behind, segments a finished merge replaced (a crash between a merge's
// commit and the removal of its inputs), hint files without their segment, and a last segment
// cut short at creation; it refuses a directory whose segments overlap in a way no sequence of
// merges produces. The result is the segments in replay order. Writer thread only.

import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import {
  decodeSegmentHeader,
  parseSegmentFileName,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  segmentFileName,
} from '../shared/format.js';
import { hintFileName, parseHintFileName } from '../shared/hint-format.js';
import type { Logger } from '../shared/logger.js';
import { removeFilesDurably, TEMP_SUFFIX } from './durable-file.js';

/** A segment file that belongs to the store. */
export interface SegmentFile {
  readonly header: SegmentHeader;
  readonly size: number;
  readonly name: string;
}

/** The store's segment files in replay order, and the highest segment id the directory held. */
export interface Inventory {
  readonly files: readonly SegmentFile[];
  readonly maxId: number;
}

/** Segment ids present in `dir`, ascending. */
export function listSegmentIds(dir: string): number[] {
  const ids: number[] = [];
  for (const name of readdirSync(dir)) {
    const id = parseSegmentFileName(name);
    if (id !== undefined) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

/**
 * Takes stock of `dir`, removing what a crash left half done (see the header comment), with a
 * log line for each removal. Throws `KV_CORRUPTION` for a bad segment header (other than a last
 * segment cut short at creation) or overlapping segments.
 */
export function takeInventory(dir: string, log: Logger): Inventory {
  const names = readdirSync(dir);
  const leftovers = names.filter((n) => n.endsWith(TEMP_SUFFIX));
  if (leftovers.length > 0) {
    log.warn({ files: leftovers }, 'removing temporary files of an interrupted write');
    removeFilesDurably(dir, leftovers);
  }
  const ids = listSegmentIds(dir);
  const maxId = ids.length > 0 ? ids[ids.length - 1]! : 0;
  let files: SegmentFile[] = [];
  for (const id of ids) {
    const name = segmentFileName(id);
    const { head, size } = readHead(join(dir, name));
    const header = decodeSegmentHeader(head, id);
    if (typeof header === 'string') {
      if (id === maxId && size <= SEGMENT_HEADER_BYTES && !header.startsWith('unsupported')) {
        // Crashed while creating the segment (its header never became durable): nothing can
        // have been appended to it.
        log.warn({ file: name, bytes: size }, 'removing a segment cut short at creation');
        removeFilesDurably(dir, [name, hintFileName(id)]);
        continue;
      }
      throw new KvError('KV_CORRUPTION', `${name} at offset 0: ${header}`);
    }
    files.push({ header, size, name });
  }
  files = dropReplaced(dir, files, log);
  files.sort((a, b) => a.header.first - b.header.first);
  for (let i = 1; i < files.length; i++) {
    const prev = files[i - 1]!.header;
    const next = files[i]!.header;
    if (next.first <= prev.last) {
      throw new KvError(
        'KV_CORRUPTION',
        `${files[i - 1]!.name} (segments ${prev.first}..${prev.last}) overlaps ${files[i]!.name} (${next.first}..${next.last})`,
      );
    }
  }
  removeOrphanHints(dir, new Set(files.map((f) => f.header.id)), log);
  return { files, maxId };
}

/** Removes every segment whose span a later merged segment covers (its inputs). */
function dropReplaced(dir: string, files: SegmentFile[], log: Logger): SegmentFile[] {
  const replaced = files.filter((f) =>
    files.some(
      (m) =>
        m !== f &&
        m.header.id > f.header.id &&
        m.header.first <= f.header.first &&
        f.header.last <= m.header.last,
    ),
  );
  if (replaced.length === 0) return files;
  log.warn(
    { files: replaced.map((f) => f.name) },
    'removing segments a finished merge replaced (an interrupted retirement)',
  );
  removeFilesDurably(
    dir,
    replaced.flatMap((f) => [hintFileName(f.header.id), f.name]),
  );
  return files.filter((f) => !replaced.includes(f));
}

function removeOrphanHints(dir: string, ids: Set<number>, log: Logger): void {
  const orphans = readdirSync(dir).filter((n) => {
    const id = parseHintFileName(n);
    return id !== undefined && !ids.has(id);
  });
  if (orphans.length === 0) return;
  log.warn({ files: orphans }, 'removing hint files whose segment is gone');
  removeFilesDurably(dir, orphans);
}

function readHead(path: string): { head: Uint8Array; size: number } {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = new Uint8Array(SEGMENT_HEADER_BYTES);
      const n = readSync(fd, head, 0, head.length, 0);
      return { head: head.subarray(0, n), size: fstatSync(fd).size };
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw ioError(`cannot read ${path}`, error);
  }
}
