// Owns the store directory's lock: one live process at a time. The exclusion is a lock on the
// file `<dir>/LOCK` itself (native addon, src/shared/file-map.ts), which holds across bind
// mounts, containers and namespaces; without the addon, a Linux abstract socket that does not.

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  ftruncateSync,
  openSync,
  readFileSync,
  realpathSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { type FileLocks, fileLocks, fileMapsStatus } from '../shared/file-map.js';
import type { Logger } from '../shared/logger.js';

/** A held directory lock; `release()` frees it. */
export interface DirLock {
  release(): Promise<void>;
}

/** The lock file's name inside the store directory. */
export const LOCK_FILE = 'LOCK';

/** Errors of `lock()` meaning another open file description holds the lock. */
const HELD = new Set(['EAGAIN', 'EACCES']);
/** Errors of `lock()` meaning this file system or kernel has no such locks. */
const UNSUPPORTED = new Set(['ENOLCK', 'EINVAL', 'ENOSYS', 'EOPNOTSUPP']);

let warnedFallback = false;

/**
 * Acquires the lock on `dir` (which must exist), for as long as this process lives or until
 * `release()`. Caller's thread. With the native addon it locks `<dir>/LOCK` (see
 * `lockDirectoryByFile`); without it, or where the file system has no such locks, it falls back
 * to `lockDirectoryBySocket` and logs a warning to `log` (once a process). Throws `KV_LOCKED`
 * if another live holder (this process or another) has it, `KV_IO` if the lock file cannot be
 * opened or written.
 */
export async function lockDirectory(dir: string, log: Logger): Promise<DirLock> {
  let why = `kvd's native addon is missing (${fileMapsStatus})`;
  if (fileLocks) {
    const held = lockDirectoryByFile(dir, fileLocks);
    if (typeof held !== 'string') return held;
    why = held;
  }
  if (!warnedFallback) {
    warnedFallback = true;
    log.warn(
      { dir, why },
      'directory lock falls back to an abstract socket, which does not hold across bind mounts, mount or network namespaces (containers)',
    );
  }
  return lockDirectoryBySocket(dir);
}

/**
 * The lock itself: opens (creating) `<dir>/LOCK` and takes an exclusive lock on its open file
 * description through `locks`. The kernel keeps that lock with the file's inode, whatever path,
 * mount or namespace it was opened through, and drops it when the fd is closed or the process
 * dies, however it dies: a `kill -9` never leaves a stale lock, and no pid guessing is needed.
 * The holder then records `{"pid":…,"since":…}` in the file (for the refused opener's message
 * and for humans). `release()` empties the record and closes the fd; it never unlinks LOCK (a
 * waiter could lock the old inode while a third opener creates a new file, and both would hold
 * "the" lock). Caller's thread. Throws `KV_LOCKED` naming `dir` and the holder's recorded pid,
 * `KV_IO` on any other failure; returns the errno name instead when the file system has no such
 * locks, so the caller can fall back.
 */
export function lockDirectoryByFile(dir: string, locks: FileLocks): DirLock | string {
  const path = join(dir, LOCK_FILE);
  let fd: number;
  try {
    // Never O_TRUNC: until we hold the lock, the file is the holder's, with its pid.
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  } catch (error) {
    throw ioError(`cannot open ${path}`, error);
  }
  const result = locks.lock(fd);
  if (result !== 0) {
    closeSync(fd);
    if (HELD.has(result)) {
      throw new KvError(
        'KV_LOCKED',
        `${dir} is already open in another live store: ${holder(path)}`,
      );
    }
    if (UNSUPPORTED.has(result)) return `${path} cannot be locked here: ${result}`;
    throw new KvError('KV_IO', `cannot lock ${path}: ${result}`);
  }
  try {
    const record = Buffer.from(holderRecord());
    ftruncateSync(fd);
    writeSync(fd, record, 0, record.length, 0);
  } catch (error) {
    closeSync(fd);
    throw ioError(`cannot write ${path}`, error);
  }
  let open = true;
  return {
    async release(): Promise<void> {
      if (!open) return;
      open = false;
      try {
        // Still ours while the fd is open: empty the record so no one reads a stale pid.
        ftruncateSync(fd);
      } catch {
        // The record is for humans; closing is what releases the lock.
      }
      closeSync(fd);
    },
  };
}

/**
 * Who holds the lock, from the record the holder wrote into LOCK after taking it. The pid is
 * as seen in the holder's own pid namespace (a container's pid differs from the host's).
 */
function holder(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '';
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    record = undefined;
  }
  if (typeof record === 'object' && record !== null && 'pid' in record) {
    const { pid, since } = record as { pid: unknown; since?: unknown };
    if (typeof pid === 'number') {
      const who = pid === process.pid ? `this process (pid ${pid})` : `pid ${pid}`;
      const when = typeof since === 'string' ? ` since ${since}` : '';
      return `held by ${who}${when}, as recorded in ${path}`;
    }
  }
  // The holder takes the lock a moment before it writes its record.
  return `the holder has not recorded its pid in ${path} yet`;
}

/**
 * The fallback lock, without the native addon: binds a Linux abstract-namespace Unix socket
 * named after the directory's real path; the kernel frees it when the process dies. It does
 * NOT hold across bind mounts (another real path) or network namespaces (containers), and it
 * does not see a holder of the file lock (`lockDirectoryByFile`). Records the pid in LOCK like
 * the file lock, and never unlinks it. Caller's thread. Throws `KV_LOCKED`, or `KV_IO`.
 */
export async function lockDirectoryBySocket(dir: string): Promise<DirLock> {
  const real = realpathSync(dir);
  const path = join(real, LOCK_FILE);
  const name = `\0kvd-lock-${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new KvError(
            'KV_LOCKED',
            `${dir} is already open in another live store: ${holder(path)} (abstract-socket ` +
              "lock, used without kvd's native file lock: it does not hold across bind mounts " +
              'or network namespaces)',
          ),
        );
      } else {
        reject(new KvError('KV_IO', `cannot lock ${real}: ${error.message}`));
      }
    });
    server.listen(name, () => resolve());
  });
  server.unref();
  try {
    writeFileSync(path, holderRecord());
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw ioError(`cannot write ${path}`, error);
  }
  let open = true;
  return {
    async release(): Promise<void> {
      if (!open) return;
      open = false;
      try {
        writeFileSync(path, '');
      } catch {
        // The record is for humans; closing the socket is what releases the lock.
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a holder writes in LOCK: this process's pid and when it took the lock, for humans. */
function holderRecord(): string {
  return `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`;
}
