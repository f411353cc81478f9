// Owns the writer's side of a hot backup (Store.backup): in one writer turn, with everything
// queued appended and synced, note the log position (the active segment's id and end), hard-link
// every sealed segment with its hint and key run into the staging directory (or open it, where
// links are not possible), and open the active segment; then copy what could not be linked and
// the active segment's prefix on libuv's pool while writes go on, paced to the request's
// bytes a second if it names a rate. Writer thread only. Its files
// live outside the store's directory, so it uses node:fs directly, not the FileSystem layer
// (whose recorded crash states model the store's own directory).

import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, linkSync, openSync, read, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { faultPoint } from '../shared/fault-points.js';
import { segmentFileName } from '../shared/format.js';
import { hintFileName } from '../shared/hint-format.js';
import { keysFileName } from '../shared/key-run-format.js';
import type { BackupCopied, BackupRequest } from '../shared/messages.js';
import type { LogWriter } from './log-writer.js';
import { type Segment, SegmentTable } from './segments.js';

/** Bytes copied per read and write. */
const CHUNK_BYTES = 1024 * 1024;
/** link(2) errors that mean "these two places cannot share a file": copy instead. */
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/** pread on libuv's pool: the count read. */
function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, 0, length, position, (error, n) => (error ? reject(error) : resolve(n))),
  );
}

/** What a backup is taken of: the writer's segment table and log. */
export interface BackupScope {
  readonly segments: SegmentTable;
  readonly log: LogWriter;
}

/** A file to copy: its name, an fd opened in the capture turn, and how many bytes to copy. */
interface PendingCopy {
  readonly name: string;
  readonly fd: number;
  readonly bytes: number;
  /** The active segment (whose copy passes the `backup-copying` fault point). */
  readonly active: boolean;
}

/** The state one capture turn fixed. */
interface Captured {
  readonly sequence: number;
  readonly activeSegment: number;
  readonly activeBytes: number;
  readonly linked: number;
  readonly linkedBytes: number;
  readonly copies: PendingCopy[];
}

/** Raised to stop a copy in progress (the store is closing). */
interface StopFlag {
  stopped: boolean;
}

/** The longest pause between two chunks, so a stop is seen within it. */
const MAX_PAUSE_MS = 50;

/**
 * Paces a backup's copying to `bytesPerSecond` (0: no limit): after each chunk, waits (on a
 * timer: the writer's thread goes on serving) until the bytes copied so far are due.
 */
class CopyPacer {
  private readonly started = performance.now();
  private bytes = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly stop: StopFlag,
  ) {}

  async spent(n: number): Promise<void> {
    this.bytes += n;
    if (!(this.bytesPerSecond > 0)) return;
    const due = (this.bytes / this.bytesPerSecond) * 1000;
    for (;;) {
      if (this.stop.stopped) throw new KvError('KV_CLOSED', 'the store closed during the backup');
      const ahead = due - (performance.now() - this.started);
      if (ahead <= 1) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(ahead, MAX_PAUSE_MS)));
    }
  }
}

/** The backups one writer runs; close stops them. Writer thread only. */
export class WriterBackups {
  private readonly running = new Set<{
    readonly stop: StopFlag;
    readonly done: Promise<unknown>;
  }>();

  /**
   * Captures the backup of `scope` into `request.staging` now (the caller has appended
   * everything queued and synced the log, in this same turn), then copies what was not linked.
   * Resolves once every file is in the staging directory and fsynced (the caller fsyncs the
   * directory and renames it). Throws `KV_IO`/`KV_DISK_FULL` for file errors, `KV_CLOSED` if
   * `stopAll` stopped it.
   */
  async run(scope: BackupScope, request: BackupRequest): Promise<BackupCopied> {
    const captured = capture(scope, request);
    const stop: StopFlag = { stopped: false };
    const pacer = new CopyPacer(request.bytesPerSecond, stop);
    const done = copyCaptured(captured, request.staging, stop, pacer);
    const entry = { stop, done };
    this.running.add(entry);
    try {
      return await done;
    } finally {
      this.running.delete(entry);
    }
  }

  /** Stops every backup in progress and waits until they have let go of their files. */
  async stopAll(): Promise<void> {
    const entries = [...this.running];
    for (const entry of entries) entry.stop.stopped = true;
    await Promise.allSettled(entries.map((entry) => entry.done));
  }
}

/**
 * The capture turn. The log up to the active segment's end is a whole number of group commits
 * (everything queued was appended, and a batch never straddles an append), so it is the store's
 * state at one point. Sealed files never change, so a link is that state for good, and an open
 * fd keeps a file's bytes even after a merge retires and unlinks it; the active segment's
 * prefix is never rewritten (appends go after it; trims and cut-backs never go below it).
 */
function capture(scope: BackupScope, request: BackupRequest): Captured {
  const { segments, log } = scope;
  const dir = segments.dir;
  const copies: PendingCopy[] = [];
  let linked = 0;
  let linkedBytes = 0;
  let canLink = request.link;
  try {
    copies.push(openCopy(dir, segmentFileName(log.activeId), log.activeSize, true)!);
    for (const segment of sealedSegments(segments.list(), log.activeId)) {
      const names = [
        SegmentTable.fileName(segment),
        hintFileName(segment.id),
        keysFileName(segment.id),
      ];
      for (const name of names) {
        const required = name === names[0];
        if (canLink) {
          const outcome = tryLink(join(dir, name), join(request.staging, name), required);
          if (outcome === 'missing') continue;
          if (outcome !== 'unsupported') {
            linked++;
            linkedBytes += outcome;
            continue;
          }
          canLink = false; // one file system pair: the others would fail alike
        }
        const size = required ? segment.size : undefined;
        const copy = openCopy(dir, name, size, false, required);
        if (copy) copies.push(copy);
      }
    }
  } catch (error) {
    for (const copy of copies) closeSync(copy.fd);
    throw ioError('backup: capturing the store failed', error);
  }
  return {
    sequence: log.sequence,
    activeSegment: log.activeId,
    activeBytes: log.activeSize,
    linked,
    linkedBytes,
    copies,
  };
}

/**
 * The sealed segments a backup takes: every registered segment but the active one, less the
 * inputs of a merge still being installed (their span lies within a later merged segment's, so
 * an open would remove them: segment-inventory.ts).
 */
function sealedSegments(list: readonly Segment[], activeId: number): Segment[] {
  return list.filter(
    (s) =>
      s.id !== activeId && !list.some((m) => m.id > s.id && m.first <= s.first && s.last <= m.last),
  );
}

/** Links `from` to `to`: the linked file's size, `missing` (optional file), or `unsupported`. */
function tryLink(from: string, to: string, required: boolean): number | 'missing' | 'unsupported' {
  try {
    linkSync(from, to);
    return statSync(to).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT' && !required) return 'missing';
    if (LINK_UNSUPPORTED.has(code)) return 'unsupported';
    throw error;
  }
}

/**
 * Opens `dir/name` to copy `bytes` of it (all of it if undefined); undefined if an optional
 * file is missing (a hint job has not written it yet, or a merge just removed it).
 */
function openCopy(
  dir: string,
  name: string,
  bytes: number | undefined,
  active: boolean,
  required = true,
): PendingCopy | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, name), 'r');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return { name, fd, bytes: bytes ?? fstatSync(fd).size, active };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Copies each pending file into `staging` (fsynced), closing every captured fd either way. */
async function copyCaptured(
  captured: Captured,
  staging: string,
  stop: StopFlag,
  pacer: CopyPacer,
): Promise<BackupCopied> {
  let copiedBytes = 0;
  try {
    faultPoint('backup-captured');
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (const copy of captured.copies) {
      await copyPrefix(copy, join(staging, copy.name), buffer, stop, pacer);
      copiedBytes += copy.bytes;
    }
  } catch (error) {
    throw ioError('backup: copying failed', error);
  } finally {
    for (const copy of captured.copies) closeSync(copy.fd);
  }
  return {
    sequence: captured.sequence,
    activeSegment: captured.activeSegment,
    activeBytes: captured.activeBytes,
    files: captured.linked + captured.copies.length,
    linked: captured.linked,
    copied: captured.copies.length,
    bytes: captured.linkedBytes + copiedBytes,
    copiedBytes,
  };
}

/** Copies bytes [0, copy.bytes) of `copy.fd` to a new file `to`, and fsyncs it. */
async function copyPrefix(
  copy: PendingCopy,
  to: string,
  buffer: Buffer,
  stop: StopFlag,
  pacer: CopyPacer,
): Promise<void> {
  const out = await open(to, 'wx');
  try {
    let at = 0;
    while (at < copy.bytes) {
      if (stop.stopped) throw new KvError('KV_CLOSED', 'the store closed during the backup');
      const got = await readAt(copy.fd, buffer, Math.min(buffer.length, copy.bytes - at), at);
      if (got === 0) {
        throw new KvError(
          'KV_INTERNAL',
          `${copy.name} ended at ${at} bytes, ${copy.bytes} expected`,
        );
      }
      let written = 0;
      while (written < got) {
        const { bytesWritten } = await out.write(buffer, written, got - written, at + written);
        written += bytesWritten;
      }
      at += got;
      if (copy.active) faultPoint('backup-copying');
      await pacer.spent(got);
    }
    await out.sync();
  } finally {
    await out.close();
  }
}
