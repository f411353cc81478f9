// Owns the test mode of the file layer: a FileSystem that performs every operation on the real
// file system and records it (data, syncs, directory changes, by inode) so a test can build the
// crash states POSIX allows from a real run, and that can fail chosen operations with an errno
// (EIO, ENOSPC, …) to test I/O error handling. Used by tests only; nothing in kvd's own open
// path creates one.

import { dirname } from 'node:path';
import {
  type BackgroundFileSystem,
  type FileSystem,
  nodeFileSystem,
  type OpenMode,
} from './file-system.js';

/** One recorded operation. Files are named by inode (stable across renames), names by path. */
export type FileOp =
  | { readonly op: 'create'; readonly path: string; readonly inode: number }
  | {
      readonly op: 'write';
      readonly inode: number;
      readonly offset: number;
      readonly bytes: Uint8Array;
    }
  | { readonly op: 'truncate'; readonly inode: number; readonly size: number }
  | { readonly op: 'sync'; readonly inode: number }
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  | { readonly op: 'unlink'; readonly path: string }
  | { readonly op: 'syncdir'; readonly dir: string };

/** The kinds of operation an injected failure can hit. */
export type FaultableOp =
  | 'open'
  | 'write'
  | 'fsync'
  | 'fdatasync'
  | 'truncate'
  | 'rename'
  | 'unlink'
  | 'syncdir';

/**
 * Decides whether an operation fails: returns an errno code (`'EIO'`, `'ENOSPC'`, …) to throw
 * instead of performing it, or undefined to let it run.
 */
export type FaultPlan = (op: FaultableOp, path: string) => string | undefined;

/**
 * A FileSystem over node:fs that records what it does (`ops`) and fails what `faults` says.
 * Files that existed before it was created get inodes when first opened; `inodeOf` names them.
 */
export class RecordingFileSystem implements FileSystem {
  /** Every operation performed so far, in order (a failed one is not recorded). */
  readonly ops: FileOp[] = [];
  /** Files that existed before recording started, by path: their inode (assigned on first use). */
  readonly preexisting = new Map<string, number>();
  private readonly inodes = new Map<string, number>();
  private readonly fds = new Map<number, number>();
  private nextInode = 1;
  readonly background: BackgroundFileSystem;

  constructor(
    public faults: FaultPlan = () => undefined,
    private readonly real: FileSystem = nodeFileSystem,
  ) {
    this.background = {
      open: async (path, mode) => this.open(path, mode),
      writev: async (fd, buffers, position) => this.writev(fd, buffers, position),
      fsync: async (fd) => this.fsync(fd),
      close: async (fd) => this.close(fd),
      rename: async (from, to) => this.rename(from, to),
      syncDirectory: async (dir) => this.syncDirectory(dir),
    };
  }

  /** The inode recorded for `path` now, if it has one. */
  inodeOf(path: string): number | undefined {
    return this.inodes.get(path);
  }

  open(path: string, mode: OpenMode): number {
    this.fault('open', path);
    const existed = this.real.exists(path);
    const fd = this.real.open(path, mode);
    let inode = this.inodes.get(path);
    if (!existed) {
      inode = this.nextInode++;
      this.inodes.set(path, inode);
      this.ops.push({ op: 'create', path, inode });
    } else {
      if (inode === undefined) {
        inode = this.nextInode++;
        this.inodes.set(path, inode);
        this.preexisting.set(path, inode);
      }
      if (mode === 'w') this.ops.push({ op: 'truncate', inode, size: 0 });
    }
    this.fds.set(fd, inode);
    return fd;
  }

  close(fd: number): void {
    this.fds.delete(fd);
    this.real.close(fd);
  }

  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.real.read(fd, buffer, offset, length, position);
  }

  readFile(path: string): Buffer {
    return this.real.readFile(path);
  }

  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.fault('write', this.pathOf(fd));
    const n = this.real.write(fd, buffer, offset, length, position);
    this.ops.push({
      op: 'write',
      inode: this.inodeOfFd(fd),
      offset: position,
      bytes: buffer.slice(offset, offset + n),
    });
    return n;
  }

  writev(fd: number, buffers: readonly Uint8Array[], position: number): number {
    this.fault('write', this.pathOf(fd));
    const n = this.real.writev(fd, buffers, position);
    const bytes = new Uint8Array(n);
    let at = 0;
    for (const b of buffers) {
      if (at >= n) break;
      const take = Math.min(b.length, n - at);
      bytes.set(b.subarray(0, take), at);
      at += take;
    }
    this.ops.push({ op: 'write', inode: this.inodeOfFd(fd), offset: position, bytes });
    return n;
  }

  fsync(fd: number): void {
    this.fault('fsync', this.pathOf(fd));
    this.real.fsync(fd);
    this.recordSync(fd);
  }

  fdatasync(fd: number): void {
    this.fault('fdatasync', this.pathOf(fd));
    this.real.fdatasync(fd);
    this.recordSync(fd);
  }

  fdatasyncInBackground(fd: number, done: (error: Error | null) => void): void {
    const code = this.faults('fdatasync', this.pathOf(fd));
    if (code) {
      setImmediate(() => done(errnoError(code, 'fdatasync', this.pathOf(fd))));
      return;
    }
    // Recorded when it completes: a crash before then may or may not have it.
    this.real.fdatasyncInBackground(fd, (error) => {
      if (!error) this.recordSync(fd);
      done(error);
    });
  }

  ftruncate(fd: number, size: number): void {
    this.fault('truncate', this.pathOf(fd));
    this.real.ftruncate(fd, size);
    this.ops.push({ op: 'truncate', inode: this.inodeOfFd(fd), size });
  }

  size(fd: number): number {
    return this.real.size(fd);
  }

  rename(from: string, to: string): void {
    this.fault('rename', from);
    this.real.rename(from, to);
    const inode = this.inodes.get(from);
    this.inodes.delete(from);
    if (inode !== undefined) this.inodes.set(to, inode);
    else this.inodes.delete(to);
    this.ops.push({ op: 'rename', from, to });
  }

  unlink(path: string): void {
    this.fault('unlink', path);
    this.real.unlink(path);
    this.inodes.delete(path);
    this.ops.push({ op: 'unlink', path });
  }

  readdir(dir: string): string[] {
    return this.real.readdir(dir);
  }

  mkdir(dir: string): void {
    this.real.mkdir(dir);
  }

  exists(path: string): boolean {
    return this.real.exists(path);
  }

  syncDirectory(dir: string): void {
    this.fault('syncdir', dir);
    this.real.syncDirectory(dir);
    this.ops.push({ op: 'syncdir', dir });
  }

  private recordSync(fd: number): void {
    const inode = this.fds.get(fd);
    if (inode !== undefined) this.ops.push({ op: 'sync', inode });
  }

  private inodeOfFd(fd: number): number {
    const inode = this.fds.get(fd);
    if (inode === undefined) throw new Error(`fd ${fd} was not opened through this layer`);
    return inode;
  }

  private pathOf(fd: number): string {
    const inode = this.fds.get(fd);
    for (const [path, i] of this.inodes) if (i === inode) return path;
    return `fd ${fd}`;
  }

  private fault(op: FaultableOp, path: string): void {
    const code = this.faults(op, path);
    if (code) throw errnoError(code, op, path);
  }
}

/** An Error shaped like a Node.js system error (`code`, `syscall`, `path`). */
function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: injected failure, ${syscall} '${path}'`);
  error.code = code;
  error.syscall = syscall;
  error.path = path;
  return error;
}

/** The directory of a recorded path (the one a `syncdir` must name to make it durable). */
export function parentOf(path: string): string {
  return dirname(path);
}
