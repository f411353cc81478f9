// Owns the crash-safe ways kvd creates and removes whole files: write to a temporary name,
// fsync, rename over the final name, fsync the directory (a crash leaves the old file or the
// new one, never a mix); and unlink-then-fsync-directory. Used for hint files, merged
// segments and index snapshots. Any thread.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { faultPoint } from '../shared/fault-points.js';

/** Suffix of every temporary file kvd writes; recovery removes leftovers. */
export const TEMP_SUFFIX = '.tmp';

/** fsyncs a directory so that a file created, renamed or removed in it survives power loss. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `bytes` to `fd` at `position` (retrying short writes). */
export function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** Writes `pieces`, one after another, to `name.tmp` in `dir` and fsyncs it (not renamed yet). */
export function writeTemp(dir: string, name: string, ...pieces: Uint8Array[]): string {
  const tmp = join(dir, name + TEMP_SUFFIX);
  const fd = openSync(tmp, 'w');
  try {
    let at = 0;
    for (const piece of pieces) {
      writeAll(fd, piece, at);
      at += piece.length;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Renames `dir/name.tmp` to `dir/name` (the commit point); the caller syncs the directory. */
export function commitTemp(dir: string, name: string): void {
  renameSync(join(dir, name + TEMP_SUFFIX), join(dir, name));
}

/**
 * Writes `dir/name` (the concatenated pieces) crash-safely: temporary file, fsync, rename,
 * directory fsync. `faultName` names the fault point between the fsync and the rename
 * (fault-points.ts), where a crash must leave the old file.
 */
export function writeFileDurably(
  dir: string,
  name: string,
  faultName: string,
  ...pieces: Uint8Array[]
): void {
  writeTemp(dir, name, ...pieces);
  faultPoint(faultName);
  commitTemp(dir, name);
  syncDirectory(dir);
}

/** Removes the named files of `dir` that exist, then fsyncs the directory once. */
export function removeFilesDurably(dir: string, names: readonly string[]): void {
  let removed = false;
  for (const name of names) {
    try {
      unlinkSync(join(dir, name));
      removed = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (removed) syncDirectory(dir);
}
