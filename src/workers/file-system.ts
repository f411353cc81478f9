// Owns the one small file layer every file operation of the writer, the merge and the index
// snapshot goes through: the `FileSystem` interface and its real implementation over node:fs.
// Tests swap in a recording layer (recording-file-system.ts) that builds crash states and
// injects I/O errors. Reads of records for serving (segment-fds.ts) do not go through it.

import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { fileMaps } from '../shared/file-map.js';
import { makeDirectorySync } from '../shared/make-directory.js';

/** How a file is opened: `r` read, `r+` read-write, `w` create or truncate, `wx` create new. */
export type OpenMode = 'r' | 'r+' | 'w' | 'wx';

/**
 * The file operations kvd's writer, merge and snapshot code use. Every method throws Node.js
 * system errors (with `code` such as `ENOENT`, `ENOSPC`, `EIO`) as node:fs does; callers turn
 * them into `KvError`s. Positions are absolute byte offsets; writes may be short.
 */
export interface FileSystem {
  /** Opens `path`; returns an fd. */
  open(path: string, mode: OpenMode): number;
  /** Closes an fd. */
  close(fd: number): void;
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns the count read. */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** The whole content of `path`. */
  readFile(path: string): Buffer;
  /** Writes `buffer[offset, offset+length)` at `position`; returns the count written. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes the buffers one after another at `position`; returns the count written. */
  writev(fd: number, buffers: readonly Uint8Array[], position: number): number;
  /** Flushes the file's data and metadata to stable storage. */
  fsync(fd: number): void;
  /** Flushes the file's data (and the size if it changed) to stable storage. */
  fdatasync(fd: number): void;
  /** `fdatasync` on libuv's thread pool; `done` gets its outcome on this thread. */
  fdatasyncInBackground(fd: number, done: (error: Error | null) => void): void;
  /** Sets the file's size. */
  ftruncate(fd: number, size: number): void;
  /** The file's size in bytes. */
  size(fd: number): number;
  /** Renames `from` to `to`, replacing `to`. */
  rename(from: string, to: string): void;
  /** Removes `path`. */
  unlink(path: string): void;
  /** Names in directory `dir`. */
  readdir(dir: string): string[];
  /** Creates directory `dir` and its parents if missing. */
  mkdir(dir: string): void;
  /** Whether `path` exists. */
  exists(path: string): boolean;
  /** fsyncs directory `dir`, so that names created, renamed or removed in it survive power loss. */
  syncDirectory(dir: string): void;
  /** The asynchronous forms (libuv's thread pool), for big writes off the writer's turn. */
  readonly background: BackgroundFileSystem;
  /**
   * A read-only map of the first `length` bytes of `fd` (kvd's addon; the file must not shrink
   * while it is mapped), or undefined where there are no maps: no addon, or a test's layer,
   * whose reads must go through `read`. Release it with `unmap`.
   */
  map?(fd: number, length: number): ArrayBuffer | undefined;
  /** Unmaps what `map` returned (its views become empty). */
  unmap?(buffer: ArrayBuffer): void;
}

/** The few operations kvd runs on libuv's thread pool (the periodic index snapshot). */
export interface BackgroundFileSystem {
  /** As `FileSystem.open`. */
  open(path: string, mode: OpenMode): Promise<number>;
  /** As `FileSystem.writev`. */
  writev(fd: number, buffers: readonly Uint8Array[], position: number): Promise<number>;
  /** As `FileSystem.fsync`. */
  fsync(fd: number): Promise<void>;
  /** As `FileSystem.close`. */
  close(fd: number): Promise<void>;
  /** As `FileSystem.rename`. */
  rename(from: string, to: string): Promise<void>;
  /** As `FileSystem.syncDirectory`. */
  syncDirectory(dir: string): Promise<void>;
}

const call = promisify;
const nodeBackground: BackgroundFileSystem = {
  open: (path, mode) => call(fs.open)(path, mode),
  writev: (fd, buffers, position) =>
    new Promise((resolve, reject) =>
      fs.writev(fd, buffers as Uint8Array[], position, (error, n) =>
        error ? reject(error) : resolve(n),
      ),
    ),
  fsync: (fd) => call(fs.fsync)(fd),
  close: (fd) => call(fs.close)(fd),
  rename: (from, to) => call(fs.rename)(from, to),
  syncDirectory: async (dir) => {
    const fd = await call(fs.open)(dir, 'r');
    try {
      await call(fs.fsync)(fd);
    } finally {
      await call(fs.close)(fd);
    }
  },
};

/** The real file layer: node:fs, synchronous except `fdatasyncInBackground`. */
export const nodeFileSystem: FileSystem = {
  open: (path, mode) => fs.openSync(path, mode),
  close: (fd) => fs.closeSync(fd),
  read: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  readFile: (path) => fs.readFileSync(path),
  write: (fd, buffer, offset, length, position) =>
    fs.writeSync(fd, buffer, offset, length, position),
  writev: (fd, buffers, position) => fs.writevSync(fd, buffers as Uint8Array[], position),
  fsync: (fd) => fs.fsyncSync(fd),
  fdatasync: (fd) => fs.fdatasyncSync(fd),
  fdatasyncInBackground: (fd, done) => fs.fdatasync(fd, done),
  ftruncate: (fd, size) => fs.ftruncateSync(fd, size),
  size: (fd) => fs.fstatSync(fd).size,
  map: (fd, length) => fileMaps?.map(fd, length),
  unmap: (buffer) => fileMaps?.unmap(buffer),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.unlinkSync(path),
  readdir: (dir) => fs.readdirSync(dir),
  mkdir: (dir) => makeDirectorySync(dir),
  exists: (path) => fs.existsSync(path),
  syncDirectory: (dir) => {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  background: nodeBackground,
};

/**
 * Fills `into` from `fd` at `position` through `files`, retrying short reads (each at most
 * 1 GiB); returns the bytes read, fewer only where the file ends.
 */
export function readAll(files: FileSystem, fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = files.read(fd, into, got, Math.min(into.length - got, 2 ** 30), position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Writes all of `bytes` to `fd` at `position` through `files`, retrying short writes. */
export function writeAll(files: FileSystem, fd: number, bytes: Uint8Array, position: number) {
  let done = 0;
  while (done < bytes.length) {
    done += files.write(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** writev through `files` that retries short writes until every byte is written at `position`. */
export function writeAllv(
  files: FileSystem,
  fd: number,
  iov: readonly Uint8Array[],
  position: number,
): void {
  let pending = iov;
  let pos = position;
  while (pending.length > 0) {
    let n = files.writev(fd, pending, pos);
    pos += n;
    const rest: Uint8Array[] = [];
    for (const chunk of pending) {
      if (n >= chunk.length) n -= chunk.length;
      else {
        rest.push(n > 0 ? chunk.subarray(n) : chunk);
        n = 0;
      }
    }
    pending = rest;
  }
}

/** The directory a file path is in (for directory fsyncs). */
export function directoryOf(path: string): string {
  return dirname(path);
}
