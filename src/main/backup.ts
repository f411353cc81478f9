// Owns Store.backup on the caller's thread: checking the destination, staging the copy in a
// sibling directory (`<dir>.tmp-<pid>-<n>`, so a killed backup never leaves anything at the
// destination), asking the writer to capture and copy into it (backup-capture.ts), then fsyncing
// the staging directory, renaming it into place and fsyncing the parent. With `replace`, an
// earlier backup at the destination is moved to `<dir>.old` first. Leftover staging directories
// of dead backups are removed by the next backup to the same destination (a lock inside each
// tells a live one, staging-lock.ts).

import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath, sep } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { faultPoint } from '../shared/fault-points.js';
import { parseSegmentFileName } from '../shared/format.js';
import { makeDirectorySync } from '../shared/make-directory.js';
import { claimLeftover, lockStaging, STAGING_LOCK_FILE, type StagingLock } from './staging-lock.js';
import type { StoreEngine } from './store-engine.js';

/** Options of `Store.backup`. */
export interface BackupOptions {
  /**
   * Hard-link the sealed files (segments, hint files, key runs) where the file system allows
   * it (default true): a link costs no copy and no disk space, but shares the file with the
   * store, so damage to that disk reaches both. False copies every file.
   */
  readonly link?: boolean;
  /**
   * If `dir` already holds a backup (a kvd store directory), move it to `<dir>.old` (removing
   * an older `<dir>.old`) once the new copy is complete, instead of refusing with `KV_EXISTS`.
   */
  readonly replace?: boolean;
  /**
   * Paces the bytes the backup copies (the active segment's prefix, and every file it cannot
   * link) to this many a second, so a large copy leaves the disk to the store's own work;
   * 0 or undefined: no limit. Hard links cost no I/O and are not paced.
   */
  readonly bytesPerSecond?: number;
}

/** What `Store.backup` wrote. */
export interface BackupResult {
  /** The backup's directory (absolute). */
  readonly dir: string;
  /** The log position captured: the copy holds every write numbered up to it, and none after. */
  readonly sequence: number;
  /** Files in the backup. */
  readonly files: number;
  /** Files hard-linked to the store's (sealed segments, hint files, key runs). */
  readonly linked: number;
  /** Files copied: the active segment's bytes up to the capture, and what could not be linked. */
  readonly copied: number;
  /** Bytes of the backup's files, linked ones included. */
  readonly bytes: number;
  /** Bytes copied. */
  readonly copiedBytes: number;
  /** Time taken, in seconds. */
  readonly seconds: number;
}

const OPTION_NAMES: ReadonlySet<string> = new Set(['link', 'replace', 'bytesPerSecond']);
/** Suffix of the previous backup that `replace` keeps. */
const OLD_SUFFIX = '.old';
/** Staging directories this process is filling now (never removed as leftovers). */
const inFlight = new Set<string>();
let nextStaging = 1;

/**
 * Writes a consistent copy of the store `e` to `dir` (see `Store.backup`). Caller's thread.
 * Throws `KV_EXISTS` if `dir` exists and is neither an empty directory nor (with `replace`) a
 * store; `KV_INVALID_ARGUMENT` for bad options or a `dir` inside the store (or holding it);
 * `KV_CLOSED` if the store closes meanwhile; `KV_IO`/`KV_DISK_FULL` for file errors.
 */
export async function backupStore(
  e: StoreEngine,
  dir: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const started = performance.now();
  checkOptions(dir, options);
  const target = resolvePath(dir);
  if (target === e.dir || target.startsWith(e.dir + sep) || e.dir.startsWith(target + sep)) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `a backup cannot be written inside the store's directory or hold it: ${target}`,
    );
  }
  const replacing = await checkTarget(target, options.replace === true);
  const parent = dirname(target);
  const staging = `${target}.tmp-${process.pid}-${nextStaging++}`;
  // Before any await: a concurrent backup to the same place must never take it for a leftover.
  inFlight.add(staging);
  let lock: StagingLock | undefined;
  try {
    try {
      makeDirectorySync(parent);
      await removeLeftovers(parent, basename(target));
      await mkdir(staging);
      lock = lockStaging(staging);
    } catch (error) {
      throw ioError(`backup: cannot create ${staging}`, error);
    }
    await e.writes.drain(); // writes issued before the call are in the copy
    const copied = await e.writer.backup({
      staging,
      link: options.link !== false,
      bytesPerSecond: options.bytesPerSecond ?? 0,
    });
    await syncDirectory(staging);
    faultPoint('backup-staged');
    if (replacing) await moveAside(target);
    await renameIntoPlace(staging, target);
    if (lock) {
      // Held until now, so no cleanup could take the staging directory for a dead one's.
      await unlink(join(target, STAGING_LOCK_FILE));
      lock.close();
      await syncDirectory(target);
    }
    await syncDirectory(parent);
    faultPoint('backup-renamed');
    e.log.info(
      { dir: target, sequence: copied.sequence, files: copied.files, linked: copied.linked },
      'backup written',
    );
    return {
      dir: target,
      sequence: copied.sequence,
      files: copied.files,
      linked: copied.linked,
      copied: copied.copied,
      bytes: copied.bytes,
      copiedBytes: copied.copiedBytes,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw ioError('backup failed', error);
  } finally {
    lock?.close();
    inFlight.delete(staging);
  }
}

function checkOptions(dir: unknown, options: unknown): void {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new KvError('KV_INVALID_ARGUMENT', 'backup needs a directory path');
  }
  if (typeof options !== 'object' || options === null) {
    throw new KvError('KV_INVALID_ARGUMENT', 'backup options must be an object');
  }
  for (const [name, value] of Object.entries(options)) {
    if (!OPTION_NAMES.has(name)) {
      throw new KvError('KV_INVALID_ARGUMENT', `unknown backup option: ${name}`);
    }
    if (name === 'bytesPerSecond') {
      if (value !== undefined && !(typeof value === 'number' && value >= 0 && value < Infinity)) {
        throw new KvError(
          'KV_INVALID_ARGUMENT',
          'backup option bytesPerSecond must be a non-negative number (0: no limit)',
        );
      }
    } else if (value !== undefined && typeof value !== 'boolean') {
      throw new KvError('KV_INVALID_ARGUMENT', `backup option ${name} must be a boolean`);
    }
  }
}

/**
 * Whether `target` holds a backup to move aside. Throws `KV_EXISTS` unless it is missing, an
 * empty directory (the rename replaces it), or, with `replace`, a store directory.
 */
async function checkTarget(target: string, replace: boolean): Promise<boolean> {
  const names = await listDirectory(target);
  if (names === undefined || names.length === 0) return false;
  if (replace && names.some((n) => parseSegmentFileName(n) !== undefined)) return true;
  throw new KvError(
    'KV_EXISTS',
    replace
      ? `${target} exists and is not a kvd store; a backup replaces only an earlier backup`
      : `${target} exists and is not an empty directory`,
  );
}

/** The names in directory `path`, undefined if it does not exist; `KV_EXISTS` if not a directory. */
async function listDirectory(path: string): Promise<string[] | undefined> {
  try {
    return await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new KvError('KV_EXISTS', `${path} exists and is a file`);
    throw ioError(`backup: cannot read ${path}`, error);
  }
}

/**
 * Removes staging directories of earlier backups to `name` in `parent` that no live backup
 * fills. This process's own: those not in flight. Another's, where it holds a staging lock file
 * (staging-lock.ts): when that lock can be taken, since the kernel dropped it when the backup
 * died, in whatever pid namespace it ran and whatever process has its pid now. Without the
 * file (an older kvd; no such locks here; or created an instant ago) or the locks: when its pid
 * names no live process here, and then only while holding the lock, so that a backup which
 * created it an instant ago fails to lock it instead of filling a directory being removed.
 */
async function removeLeftovers(parent: string, name: string): Promise<void> {
  const pattern = new RegExp(`^${escapeRegExp(name)}\\.tmp-(\\d+)-\\d+$`);
  for (const entry of await readdir(parent)) {
    const match = pattern.exec(entry);
    if (!match) continue;
    const path = join(parent, entry);
    const pid = Number(match[1]);
    if (pid === process.pid) {
      if (!inFlight.has(path)) await rm(path, { recursive: true, force: true });
      continue;
    }
    const locked = existsSync(join(path, STAGING_LOCK_FILE));
    if (!locked && processExists(pid)) continue;
    const claim = claimLeftover(path);
    if (claim === 'live' || claim === 'gone') continue;
    if (claim === undefined && locked && processExists(pid)) continue; // no locks: the pid decides
    try {
      await rm(path, { recursive: true, force: true });
    } finally {
      claim?.close();
    }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Moves the backup at `target` to `<target>.old`, removing an older one there (a store only). */
async function moveAside(target: string): Promise<void> {
  const old = target + OLD_SUFFIX;
  const names = await listDirectory(old);
  if (names !== undefined && names.length > 0) {
    if (!names.some((n) => parseSegmentFileName(n) !== undefined)) {
      throw new KvError('KV_EXISTS', `${old} exists and is not a kvd store; not replacing it`);
    }
    await rm(old, { recursive: true, force: true });
  }
  await rename(target, old);
}

/** Renames the staging directory to `target`: `KV_EXISTS` if something took `target` meanwhile. */
async function renameIntoPlace(staging: string, target: string): Promise<void> {
  try {
    await rename(staging, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new KvError('KV_EXISTS', `${target} was created while the backup was being written`);
    }
    throw error;
  }
}

/** fsyncs directory `path`, so the names created or renamed in it survive a power loss. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
