// Owns the crash-safe ways kvd creates and removes whole files: write to a temporary name,
// fsync, rename over the final name, fsync the directory (a crash leaves the old file or the
// new one, never a mix); and unlink-then-fsync-directory. Used for hint files, merged
// segments and index snapshots. Any thread; all I/O goes through the given file layer.

import { join } from 'node:path';
import { faultPoint } from '../shared/fault-points.js';
import { type FileSystem, writeAll } from './file-system.js';

/** Suffix of every temporary file kvd writes; recovery removes leftovers. */
export const TEMP_SUFFIX = '.tmp';

/** Writes `pieces`, one after another, to `name.tmp` in `dir` and fsyncs it (not renamed yet). */
export function writeTemp(
  files: FileSystem,
  dir: string,
  name: string,
  ...pieces: Uint8Array[]
): string {
  const tmp = join(dir, name + TEMP_SUFFIX);
  const fd = files.open(tmp, 'w');
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
  return tmp;
}

/** Renames `dir/name.tmp` to `dir/name` (the commit point); the caller syncs the directory. */
export function commitTemp(files: FileSystem, dir: string, name: string): void {
  files.rename(join(dir, name + TEMP_SUFFIX), join(dir, name));
}

/**
 * Writes `dir/name` (the concatenated pieces) crash-safely: temporary file, fsync, rename,
 * directory fsync. `faultName` names the fault point between the fsync and the rename
 * (fault-points.ts), where a crash must leave the old file.
 */
export function writeFileDurably(
  files: FileSystem,
  dir: string,
  name: string,
  faultName: string,
  ...pieces: Uint8Array[]
): void {
  writeTemp(files, dir, name, ...pieces);
  faultPoint(faultName);
  commitTemp(files, dir, name);
  files.syncDirectory(dir);
}

/** Removes the named files of `dir` that exist, then fsyncs the directory once. */
export function removeFilesDurably(files: FileSystem, dir: string, names: readonly string[]): void {
  let removed = false;
  for (const name of names) {
    try {
      files.unlink(join(dir, name));
      removed = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (removed) files.syncDirectory(dir);
}
