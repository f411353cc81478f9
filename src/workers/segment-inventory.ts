// Owns deciding, at open, which files of a data directory are the store: it removes temporary
// files a crash left behind, segments a finished merge replaced (a crash between a merge's
// commit and the removal of its inputs), hint files without their segment, and a last segment
// cut short at creation; it refuses a directory whose segments overlap in a way no sequence of
// merges produces. The result is the segments in replay order. Writer thread only.

import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import {
  decodeSegmentHeader,
  describeSegmentHeaderFailure,
  isSegmentHeaderFailure,
  KIND_SORTED,
  parseSegmentFileName,
  parseSortedSegmentFileName,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  segmentFileName,
  sortedSegmentFileName,
} from '../shared/format.js';
import { hintFileName, parseHintFileName } from '../shared/hint-format.js';
import { keysFileName, parseKeysFileName } from '../shared/key-run-format.js';
import type { Logger } from '../shared/logger.js';
import {
  decodeFooter,
  FOOTER_BYTES,
  isSortedFailure,
  sortedCorruption,
} from '../shared/sorted-format.js';
import { removeFilesDurably, TEMP_SUFFIX } from './durable-file.js';
import type { FileSystem } from './file-system.js';

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

/** Log segment ids among the file `names` of a directory, ascending. */
function segmentIds(names: readonly string[]): number[] {
  const ids: number[] = [];
  for (const name of names) {
    const id = parseSegmentFileName(name);
    if (id !== undefined) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

/** Data segment (`.sst`) ids among the file `names` of a directory. */
function sortedSegmentIds(names: readonly string[]): number[] {
  const ids: number[] = [];
  for (const name of names) {
    const id = parseSortedSegmentFileName(name);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/**
 * Takes stock of `dir`, removing what a crash left half done (see the header comment), with a
 * log line for each removal. Throws `KV_CORRUPTION` for a bad segment header (other than a last
 * segment cut short at creation) or overlapping segments.
 */
export function takeInventory(files: FileSystem, dir: string, log: Logger): Inventory {
  const names = files.readdir(dir);
  const leftovers = names.filter((n) => n.endsWith(TEMP_SUFFIX));
  if (leftovers.length > 0) {
    log.warn({ files: leftovers }, 'removing temporary files of an interrupted write');
    removeFilesDurably(files, dir, leftovers);
  }
  const ids = segmentIds(names);
  const sortedIds = sortedSegmentIds(names);
  const maxId = Math.max(0, ...ids, ...sortedIds);
  let found: SegmentFile[] = [];
  for (const id of sortedIds) found.push(readSortedFile(files, dir, id));
  for (const id of ids) {
    const name = segmentFileName(id);
    const { head, size } = readHead(files, join(dir, name));
    const header = decodeSegmentHeader(head, id);
    if (isSegmentHeaderFailure(header)) {
      if (id === maxId && size <= SEGMENT_HEADER_BYTES && header.reason !== 'unsupported-version') {
        // Crashed while creating the segment (its header never became durable): nothing can
        // have been appended to it.
        log.warn({ file: name, bytes: size }, 'removing a segment cut short at creation');
        removeFilesDurably(files, dir, [name, hintFileName(id), keysFileName(id)]);
        continue;
      }
      throw new KvError(
        'KV_CORRUPTION',
        `${name} at offset 0: ${describeSegmentHeaderFailure(header)}`,
      );
    }
    found.push({ header, size, name });
  }
  found = dropReplaced(files, dir, found, log);
  found.sort((a, b) => a.header.first - b.header.first);
  for (let i = 1; i < found.length; i++) {
    const prev = found[i - 1]!.header;
    const next = found[i]!.header;
    if (next.first <= prev.last) {
      throw new KvError(
        'KV_CORRUPTION',
        `${found[i - 1]!.name} (segments ${prev.first}..${prev.last}) overlaps ${found[i]!.name} (${next.first}..${next.last})`,
      );
    }
  }
  removeOrphanHints(files, dir, new Set(found.map((f) => f.header.id)), log);
  return { files: found, maxId };
}

/** Removes every segment whose span a later merged segment covers (its inputs). */
function dropReplaced(
  fs: FileSystem,
  dir: string,
  files: SegmentFile[],
  log: Logger,
): SegmentFile[] {
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
    fs,
    dir,
    replaced.flatMap((f) => [hintFileName(f.header.id), keysFileName(f.header.id), f.name]),
  );
  return files.filter((f) => !replaced.includes(f));
}

function removeOrphanHints(files: FileSystem, dir: string, ids: Set<number>, log: Logger): void {
  const orphans = files.readdir(dir).filter((n) => {
    const id = parseHintFileName(n) ?? parseKeysFileName(n);
    return id !== undefined && !ids.has(id);
  });
  if (orphans.length === 0) return;
  log.warn({ files: orphans }, 'removing hint and key run files whose segment is gone');
  removeFilesDurably(files, dir, orphans);
}

/**
 * A data segment's id and span from its footer (a merge renamed it into place whole, so any
 * failure is damage: `KV_CORRUPTION` naming the file and offset).
 */
function readSortedFile(files: FileSystem, dir: string, id: number): SegmentFile {
  const name = sortedSegmentFileName(id);
  let footer: Uint8Array;
  let size: number;
  try {
    const fd = files.open(join(dir, name), 'r');
    try {
      size = files.size(fd);
      footer = new Uint8Array(Math.min(size, FOOTER_BYTES));
      const n = files.read(fd, footer, 0, footer.length, Math.max(0, size - FOOTER_BYTES));
      footer = footer.subarray(0, n);
    } finally {
      files.close(fd);
    }
  } catch (error) {
    throw ioError(`cannot read ${name}`, error);
  }
  const decoded = decodeFooter(footer, size);
  if (isSortedFailure(decoded)) throw sortedCorruption(decoded, name);
  if (
    decoded.segmentId !== id ||
    !decoded.pointEntries ||
    decoded.first > decoded.last ||
    decoded.last >= id
  ) {
    throw new KvError(
      'KV_CORRUPTION',
      `${name} at offset ${size - FOOTER_BYTES}: its footer names segment ${decoded.segmentId} spanning ${decoded.first}..${decoded.last}`,
    );
  }
  return {
    header: { id, kind: KIND_SORTED, first: decoded.first, last: decoded.last },
    size,
    name,
  };
}

function readHead(files: FileSystem, path: string): { head: Uint8Array; size: number } {
  try {
    const fd = files.open(path, 'r');
    try {
      const head = new Uint8Array(SEGMENT_HEADER_BYTES);
      const n = files.read(fd, head, 0, head.length, 0);
      return { head: head.subarray(0, n), size: files.size(fd) };
    } finally {
      files.close(fd);
    }
  } catch (error) {
    throw ioError(`cannot read ${path}`, error);
  }
}
