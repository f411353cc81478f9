// Owns the lock that marks a backup's staging directory as being filled: a file inside it
// (`STAGING_LOCK_FILE`) locked with an open-file-description lock through kvd's native addon,
// as the store directory's LOCK is (dir-lock.ts). The kernel drops the lock when its holder
// dies, in whatever pid namespace it ran, so a leftover's cleanup can tell a live backup from a
// dead one where the pid in the directory's name cannot (a container's pid looks dead, or
// reused, from another). Without the addon, or where the file system has no such locks, there is
// no lock and the cleanup falls back to the pid (backup.ts).

import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { fileLocks } from '../shared/file-map.js';

/** The lock file's name inside a staging directory; removed once the copy is in place. */
export const STAGING_LOCK_FILE = '.backup-in-progress';

/** Errors of `lock()` meaning another open file description holds the lock. */
const HELD = new Set(['EAGAIN', 'EACCES']);

/** A held staging lock; `close()` drops it (idempotent). */
export interface StagingLock {
  close(): void;
}

/**
 * Locks staging directory `staging`, just created by this process. Returns undefined where
 * there are no such locks. Throws `KV_IO` if the lock is held (another process's cleanup took
 * the directory for a dead one's in the instant between its creation and this lock: the backup
 * fails rather than fill a directory being removed) or the file cannot be created.
 */
export function lockStaging(staging: string): StagingLock | undefined {
  const held = takeLock(staging);
  if (held === 'held') {
    throw new KvError(
      'KV_IO',
      `backup: ${staging} was taken for a leftover by another process's backup; try again`,
    );
  }
  return held;
}

/**
 * For a leftover staging directory whose pid does not name a live process here: `'live'` if a
 * backup still holds its lock, `'gone'` if the directory went away meanwhile (another cleanup),
 * else the lock, now held by this process, to keep while removing it (so a backup that created
 * it an instant ago cannot start filling it); undefined where there are no such locks.
 */
export function claimLeftover(staging: string): 'live' | 'gone' | StagingLock | undefined {
  try {
    const held = takeLock(staging);
    return held === 'held' ? 'live' : held;
  } catch (error) {
    if (
      (error as KvError).cause instanceof Error &&
      codeOf((error as KvError).cause) === 'ENOENT'
    ) {
      return 'gone';
    }
    throw error;
  }
}

function codeOf(error: unknown): unknown {
  return (error as NodeJS.ErrnoException).code;
}

function takeLock(staging: string): 'held' | StagingLock | undefined {
  if (!fileLocks) return undefined;
  let fd: number;
  try {
    fd = openSync(join(staging, STAGING_LOCK_FILE), constants.O_RDWR | constants.O_CREAT, 0o644);
  } catch (error) {
    throw ioError(`backup: cannot create the lock in ${staging}`, error);
  }
  const result = fileLocks.lock(fd);
  if (result !== 0) {
    closeSync(fd);
    return HELD.has(result) ? 'held' : undefined; // no such locks here: fall back to the pid
  }
  let open = true;
  return {
    close(): void {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}
