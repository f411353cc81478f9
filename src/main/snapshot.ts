// Owns snapshots (Store.snapshot): a read view that sees exactly the writes published before it
// was taken. Taking one is cheap: count it in the version log (the writer then records every
// version it displaces, version-log.ts) and note the published sequence number and the clock;
// nothing is copied. A read finds the key's current record; if it is newer than the snapshot,
// the version current at the snapshot comes from the version log. Merges wait to retire
// segments while any snapshot is held, so the store's key runs and memtable at any later
// moment hold every key the snapshot can see (more is harmless: each key is read through the
// snapshot). An unreleased snapshot is released by the garbage collector or after
// `snapshotTimeoutMs`, with one log line. Caller's thread.

import { KvError } from '../shared/errors.js';
import { type KeyInput, keyEquals } from '../shared/key-bytes.js';
import type { Logger } from '../shared/logger.js';
import type { Entry } from '../shared/record-reader.js';
import { fillMemtableOnce } from './memtable-fill.js';
import {
  currentSources,
  type RangeEntryWithExpiry,
  type RangeSources,
  type ResolvedRange,
  resolveRange,
  scanRange,
  scanRangeInSlices,
} from './range-scan.js';
import { type EntryAt, indexPointsAt } from './sorted-file-cursor.js';
import type { StoreEngine } from './store-engine.js';
import type { Bytes, RangeEntry, RangeKey, RangeKeyValue, RangeOptions } from './store-types.js';

/** What a snapshot holds, apart from the object users see (so the finalizer can release it). */
interface SnapshotState {
  released: boolean;
  readonly e: StoreEngine;
  timer: NodeJS.Timeout | undefined;
}

/** The snapshots of one store: creation, release, timeouts, and release at close. */
export class SnapshotRegistry {
  private readonly held = new Set<SnapshotState>();
  private readonly finalizer = new FinalizationRegistry<SnapshotState>((state) => {
    if (state.released) return;
    this.log.warn('a snapshot was never released; the garbage collector released it');
    this.release(state);
  });

  constructor(
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Snapshots held now. */
  get count(): number {
    return this.held.size;
  }

  /** Takes a snapshot of the store `e` (Store.snapshot). */
  create(e: StoreEngine): Snapshot {
    e.versions.holdSnapshot();
    const state: SnapshotState = { released: false, e, timer: undefined };
    const snapshot = new Snapshot(e, state, e.index.publishedSeq, Date.now(), () =>
      this.release(state),
    );
    this.held.add(state);
    this.finalizer.register(snapshot, state, state);
    if (this.timeoutMs > 0) {
      state.timer = setTimeout(() => {
        if (state.released) return;
        this.log.warn(
          { timeoutMs: this.timeoutMs },
          'a snapshot was held past snapshotTimeoutMs; released',
        );
        this.release(state);
      }, this.timeoutMs);
      state.timer.unref();
    }
    return snapshot;
  }

  /** Releases every snapshot still held (at close). */
  releaseAll(): void {
    for (const state of [...this.held]) this.release(state);
  }

  private release(state: SnapshotState): void {
    if (state.released) return;
    state.released = true;
    if (state.timer) clearTimeout(state.timer);
    this.held.delete(state);
    this.finalizer.unregister(state);
    state.e.versions.releaseSnapshot();
  }
}

/**
 * A read view of the store as it was when `Store.snapshot()` returned: it sees exactly the
 * writes acknowledged before then, while writes, merges and expiry go on (a key's expiry is
 * judged by the clock at that moment). Release it when done: while any snapshot is held,
 * merges wait to retire the segments they replaced. Reads after `release` (or after the store
 * closes) throw `KV_SNAPSHOT_RELEASED`.
 */
export class Snapshot {
  /** @internal Use `Store.snapshot()`. */
  constructor(
    private readonly e: StoreEngine,
    private readonly state: SnapshotState,
    /** Every record up to this sequence number is in the view; none after it. */
    readonly sequence: number,
    /** The clock (ms since the epoch) expiry is judged by. */
    readonly takenAt: number,
    private readonly onRelease: () => void,
  ) {}

  /** The value `key` had when the snapshot was taken, read on the calling thread. */
  getSync(key: Bytes): Buffer | undefined {
    this.checkKey(key);
    return this.read(key)?.value;
  }

  /** `getSync`, as a promise. */
  async get(key: Bytes): Promise<Buffer | undefined> {
    return this.getSync(key);
  }

  /** The values `keys` had when the snapshot was taken, in order. */
  async getMany(keys: readonly Bytes[]): Promise<(Buffer | undefined)[]> {
    if (!Array.isArray(keys)) {
      throw new KvError('KV_INVALID_ARGUMENT', 'getMany takes an array of keys');
    }
    for (const key of keys) this.checkKey(key);
    return keys.map((key) => this.read(key)?.value);
  }

  /** A range scan of the snapshot, on the calling thread (see `Store.rangeSync`). */
  rangeSync(options: RangeOptions & { readonly values: false }): Generator<RangeKey>;
  rangeSync(options?: RangeOptions): Generator<RangeKeyValue>;
  rangeSync(options?: RangeOptions): Generator<RangeEntry> {
    this.checkHeld();
    return scanRange(this.sources(), resolveRange(options));
  }

  /**
   * Internal (the replication's full resync): every live key with its value and its expiry as
   * the snapshot sees them, in byte order, on the calling thread.
   * @internal
   */
  entriesWithExpiry(): Generator<RangeEntryWithExpiry> {
    this.checkHeld();
    return scanRange(this.sources(), {
      ...resolveRange(),
      expiry: true,
    }) as Generator<RangeEntryWithExpiry>;
  }

  /** `rangeSync` as an async iterable, in slices (see `Store.range`). */
  range(options: RangeOptions & { readonly values: false }): AsyncGenerator<RangeKey>;
  range(options?: RangeOptions): AsyncGenerator<RangeKeyValue>;
  range(options?: RangeOptions): AsyncGenerator<RangeEntry> {
    this.checkHeld();
    return scanRangeInSlices(this.sources(), resolveRange(options));
  }

  /** Whether it was released (by `release`, a timeout, or the store's close). */
  get released(): boolean {
    return this.state.released;
  }

  /** Releases it; idempotent. */
  release(): void {
    this.onRelease();
  }

  /** @internal What scans of this snapshot read through. */
  sources(): RangeSources {
    return {
      acquire: () => {
        this.checkHeld();
        fillMemtableOnce(this.e);
        return currentSources(this.e.keyRuns, this.e.memtable);
      },
      get: (key) => this.read(key)?.value,
      getWithExpiry: (key) => this.read(key),
      has: (key) => this.read(key) !== undefined,
      isVersion: (at) => this.isVersion(at),
    };
  }

  /**
   * Whether a data segment's entry is the version of its key this snapshot sees: it was written
   * before the snapshot and it is its key's newest version now (its segment is all-live, or the
   * index points at it), so no write to its key came after it. An entry with an expiry is left
   * to `read` (false), which judges it by the snapshot's clock.
   */
  private isVersion(at: EntryAt): boolean {
    // Only the release is checked, not an overflowed version log: an entry the index points at
    // now was never displaced, so it is the snapshot's version whatever the log lost.
    if (this.state.released) this.checkHeld();
    if (at.expiresAt !== 0 || at.seq > this.sequence) return false;
    // A data segment whose every put entry is live needs no probe (segment-handles.ts).
    if (this.e.index.segments.allLive(at.handle, at.segmentId)) return true;
    return indexPointsAt(this.e.index, at);
  }

  private read(key: KeyInput): Entry | undefined {
    this.checkHeld();
    const e = this.e;
    const current = e.localReader.currentEntry(key);
    // A key expired by now is deleted as any read would (the snapshot keeps its own view).
    if (current && current.expiresAt !== 0 && current.expiresAt <= Date.now()) e.reaper.reap(key);
    let found: Entry | undefined;
    if (current && current.version <= this.sequence) found = current;
    else {
      const tag = e.index.tagOfKey(key);
      for (const v of e.versions.candidates(tag, this.sequence)) {
        const old = e.localReader.located.entryAt(v.handle, v.offset, v.length);
        if (keyEquals(old.key, 0, old.key.length, key)) {
          found = old;
          break;
        }
      }
      // Released (or the log overflowed) while reading it: what was read may be incomplete.
      this.checkHeld();
    }
    if (!found || (found.expiresAt !== 0 && found.expiresAt <= this.takenAt)) return undefined;
    return found;
  }

  private checkHeld(): void {
    if (this.state.released) {
      throw new KvError('KV_SNAPSHOT_RELEASED', 'the snapshot was released');
    }
    if (this.e.versions.overflowed) {
      throw new KvError(
        'KV_SNAPSHOT_RELEASED',
        'the snapshot can no longer be served: too many versions were displaced while it was held',
      );
    }
  }

  private checkKey(key: unknown): asserts key is Bytes {
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
      throw new KvError('KV_INVALID_ARGUMENT', 'a key must be a string or a Uint8Array');
    }
  }
}

/** A scan of `range` from a snapshot taken at its first step and released when it ends. */
export function scanInSnapshot(e: StoreEngine, range: ResolvedRange): Generator<RangeEntry> {
  return scanRange(() => {
    const snapshot = e.snapshots.create(e);
    return { ...snapshot.sources(), end: () => snapshot.release() };
  }, range);
}

/** `scanInSnapshot` in slices, as an async iterable (Store.range). */
export async function* scanInSnapshotInSlices(
  e: StoreEngine,
  range: ResolvedRange,
): AsyncGenerator<RangeEntry> {
  const snapshot = e.snapshots.create(e);
  try {
    yield* scanRangeInSlices(snapshot.sources(), range);
  } finally {
    snapshot.release();
  }
}
