// Owns the file surgery recovery and repair do on segments: saving bytes aside under a name that
// never overwrites an earlier copy (`.torn-<offset>`, `.damaged-<offset>`), truncating a segment
// and syncing it, and syncing a file whole. Writer thread only; all I/O through the file layer.

import { dirname } from 'node:path';
import { ioError } from '../shared/errors.js';
import { type FileSystem, writeAll } from './file-system.js';

/**
 * Writes `bytes` to a new file named `path` (or `path.1`, `path.2`, … if an earlier recovery or
 * repair saved bytes under that name: they may be the only copy), fsyncs it and its directory,
 * and returns the name used. Throws `KV_IO` or `KV_DISK_FULL`.
 */
export function saveAside(files: FileSystem, path: string, bytes: Uint8Array): string {
  let name = path;
  try {
    for (let n = 1; files.exists(name); n++) name = `${path}.${n}`;
    const fd = files.open(name, 'wx');
    try {
      writeAll(files, fd, bytes, 0);
      files.fsync(fd);
    } finally {
      files.close(fd);
    }
    files.syncDirectory(dirname(name));
  } catch (error) {
    throw ioError(`cannot save bytes aside to ${name}`, error);
  }
  return name;
}

/** Truncates the file at `path` (called `name` in errors) to `size` and fsyncs it. */
export function trimFile(files: FileSystem, path: string, name: string, size: number): void {
  try {
    const fd = files.open(path, 'r+');
    try {
      files.ftruncate(fd, size);
      files.fsync(fd);
    } finally {
      files.close(fd);
    }
  } catch (error) {
    throw ioError(`cannot trim ${name}`, error);
  }
}

/** fdatasyncs the file at `path` (called `name` in errors). */
export function syncFile(files: FileSystem, path: string, name: string): void {
  try {
    const fd = files.open(path, 'r+');
    try {
      files.fdatasync(fd);
    } finally {
      files.close(fd);
    }
  } catch (error) {
    throw ioError(`cannot sync ${name}`, error);
  }
}
