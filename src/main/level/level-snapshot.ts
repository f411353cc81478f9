// Owns KvdLevel's explicit snapshots (`db.snapshot()`): an abstract-level snapshot wrapping one
// kvd Snapshot, released when abstract-level closes it (by `close()`, or the database's close).

import { AbstractSnapshot } from 'abstract-level';
import type { Snapshot } from '../index.js';

/** What abstract-level passes a snapshot's constructor: the database that closes it. */
export interface SnapshotOwnerOptions {
  /** The database (or sublevel) the snapshot is attached to. */
  readonly owner: object;
}

// abstract-level's typings declare no constructor for AbstractSnapshot, whose JavaScript takes
// `{ owner }` (and attaches the snapshot to it): this is that constructor, typed.
const SnapshotBase = AbstractSnapshot as unknown as new (
  options: SnapshotOwnerOptions,
) => AbstractSnapshot;

/**
 * A snapshot of a `KvdLevel` (from `db.snapshot()`): reads given `{ snapshot }` see the
 * database exactly as it was when it was taken. It holds a kvd `Snapshot` (see kvd's
 * `Store.snapshot`) until closed; like every kvd snapshot, one held past the store's
 * `snapshotTimeoutMs` is released, and reads through it then fail with
 * `LEVEL_SNAPSHOT_NOT_OPEN`.
 */
export class KvdLevelSnapshot extends SnapshotBase {
  /** @internal Created by `KvdLevel`'s `_snapshot`. */
  constructor(
    options: SnapshotOwnerOptions,
    /** @internal The kvd snapshot it reads through. */
    readonly kvd: Snapshot,
  ) {
    super(options);
  }

  /** @internal abstract-level calls it once, when no read through the snapshot is in flight. */
  async _close(): Promise<void> {
    this.kvd.release();
  }
}
