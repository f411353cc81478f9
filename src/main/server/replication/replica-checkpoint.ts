// Owns the replica's checkpoint while its stream flows: every second, the offset it has applied,
// written (replica-offset-file.ts) once the store has flushed everything up to it, so that a
// replica killed (SIGKILL, a crash) restarts with PSYNC from there and gets +CONTINUE instead of
// a full resync. Replaying the stream from a checkpoint re-applies commands the store may
// already hold; that is harmless only for blind writes, whose result does not depend on what the
// key held (SET with no or an absolute expiry, DEL, MSET, …: every command a kvd master sends).
// So before any other command (INCR, APPEND, PEXPIREAT, … from a redis-server master) is fed,
// the checkpoint is removed, durably; the next one is written after it has been applied.

import type { Logger, Store } from '../../index.js';
import { removeReplicaOffset, saveReplicaOffset } from './replica-offset-file.js';
import type { MasterAddress } from './replication-state.js';
import type { CommandFrame } from './resp-frames.js';

/** Commands whose effect does not depend on the state they find, whatever their arguments. */
const BLIND = [
  'del',
  'discard',
  'exec',
  'flushall',
  'flushdb',
  'mset',
  'multi',
  'ping',
  'replconf',
  'select',
  'unlink',
];

/**
 * Whether replaying the command `frame` found in `buf` on a store that may already hold its
 * effect gives the same store: a write that overwrites whatever it finds. An inline command (a
 * keepalive newline) counts as blind.
 */
export function isBlindWrite(buf: Buffer, frame: CommandFrame): boolean {
  if (frame.argc === 0) return true;
  if (frame.argIs(buf, 0, 'set')) {
    // SET key value, or with an absolute expiry (PXAT/EXAT ms): nothing read.
    return (
      frame.argc === 3 ||
      (frame.argc === 5 && (frame.argIs(buf, 3, 'pxat') || frame.argIs(buf, 3, 'exat')))
    );
  }
  for (const name of BLIND) if (frame.argIs(buf, 0, name)) return true;
  return false;
}

/** The checkpoint of one link's stream. Main thread. */
export class ReplicaCheckpoint {
  /** Whether a checkpoint file may exist, naming an offset replay is safe from. */
  private written = true; // a file from before this process may be there until first removed
  private saving = false;
  private ops: Promise<void> = Promise.resolve();
  /** The stream offset right after the last command that is not a blind write, fed so far. */
  private lastUnsafeEnd = -1;
  private lastSaved = -1;

  constructor(
    private readonly dir: string,
    private readonly store: Store,
    private readonly master: MasterAddress,
    private readonly log: Logger,
  ) {}

  /** Whether a command that is not a blind write must wait for `invalidate()` before it is fed. */
  get guarded(): boolean {
    return this.written || this.saving;
  }

  /** Notes that a command that is not a blind write, ending at `offset`, is fed. */
  fedUnsafe(offset: number): void {
    this.lastUnsafeEnd = offset;
  }

  /**
   * A full resync starts: the offsets noted so far belong to the old stream. Removes the
   * checkpoint, durably, before the load empties the store.
   */
  restart(): Promise<void> {
    return this.queue(async () => {
      // In the queue: after any save in progress, which would otherwise note its old offset.
      this.lastSaved = -1;
      this.lastUnsafeEnd = -1;
      if (!this.written) return;
      await removeReplicaOffset(this.dir);
      this.written = false;
    });
  }

  /** Removes the checkpoint, durably, after any save in progress. */
  invalidate(): Promise<void> {
    return this.queue(async () => {
      if (!this.written) return;
      await removeReplicaOffset(this.dir);
      this.written = false;
    });
  }

  /**
   * Writes a checkpoint at `offset` (everything up to it applied) of the master's stream
   * `replId`, once the store has flushed; skipped if a command that is not a blind write was fed
   * past it meanwhile. Failures are logged: the previous state stays (no file, or an older one).
   */
  save(replId: string, offset: number): void {
    if (this.saving || offset <= this.lastSaved || this.lastUnsafeEnd > offset) return;
    this.saving = true;
    void this.queue(async () => {
      try {
        await this.store.flush();
        if (this.lastUnsafeEnd > offset) return;
        await saveReplicaOffset(this.dir, { master: this.master, replId, offset });
        this.written = true;
        this.lastSaved = offset;
      } catch (error) {
        this.log.warn({ err: error }, 'could not write the replica checkpoint');
      } finally {
        this.saving = false;
      }
    });
  }

  /** Resolves once every file operation asked for has finished. */
  settled(): Promise<void> {
    return this.ops;
  }

  private queue(op: () => Promise<void>): Promise<void> {
    const next = this.ops.then(op);
    this.ops = next.catch(() => undefined);
    return next;
  }
}
