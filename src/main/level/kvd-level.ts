// Owns KvdLevel: kvd as an abstract-level 3 database. abstract-level checks and encodes every
// call, then calls the private methods here, which delegate to one Store: point reads on the
// caller's thread (getSync, or a kvd Snapshot's for an explicit snapshot), writes and atomic
// batches through the store's writer, iterators walking a snapshot (level-cursor.ts), clear
// (level-clear.ts). Keys and values stay bytes: utf8, buffer and view are native formats.

import { readdir } from 'node:fs/promises';
import { type AbstractDatabaseOptions, AbstractLevel, type AbstractSnapshot } from 'abstract-level';
import { type BatchOp, KvError, type Snapshot, Store, type StoreOptions } from '../index.js';
import { clearRange } from './level-clear.js';
import { LevelCursor } from './level-cursor.js';
import { mapErrors, mapRejection } from './level-errors.js';
import { asFormatOrUndefined, type LevelData } from './level-format.js';
import {
  KvdLevelIterator,
  KvdLevelKeyIterator,
  KvdLevelValueIterator,
  type LevelIteratorOptions,
} from './level-iterators.js';
import type { LevelRangeOptions } from './level-range.js';
import { KvdLevelSnapshot, type SnapshotOwnerOptions } from './level-snapshot.js';

/** abstract-level's manifest type (level-supports' `Partial<IManifest>`). */
type LevelManifest = ConstructorParameters<typeof AbstractLevel>[0];

/**
 * What KvdLevel supports, as abstract-level's manifest (`db.supports`). `getSync` is
 * abstract-level 3's, missing from level-supports' typings.
 */
const MANIFEST: LevelManifest & { readonly getSync: boolean } = {
  permanence: true,
  seek: true,
  implicitSnapshots: true,
  explicitSnapshots: true,
  has: true,
  getSync: true,
  createIfMissing: true,
  errorIfExists: true,
  encodings: { buffer: true, view: true, utf8: true },
};

/** Options of `new KvdLevel(location, options)`. */
export interface KvdLevelOptions<K, V> extends AbstractDatabaseOptions<K, V> {
  /**
   * Options of the kvd store underneath, passed to `Store.open` as they are (see kvd's
   * `StoreOptions`; an unknown name fails the open with `KV_INVALID_ARGUMENT`).
   */
  store?: StoreOptions;
}

/** What abstract-level passes `_open`. */
interface LevelOpenOptions {
  readonly createIfMissing: boolean;
  readonly errorIfExists: boolean;
}

/** What abstract-level passes the read methods: the formats, and an explicit snapshot if any. */
interface LevelReadOptions {
  readonly valueEncoding?: string;
  readonly snapshot?: AbstractSnapshot;
}

/** One operation abstract-level passes `_batch` (already encoded). */
interface LevelBatchOperation {
  readonly type: 'put' | 'del';
  readonly key: LevelData;
  readonly value?: LevelData;
}

/** What abstract-level passes `_clear`: a range, and an explicit snapshot if any. */
interface LevelClearOptions extends LevelRangeOptions {
  readonly snapshot?: AbstractSnapshot;
}

/**
 * kvd as an [abstract-level](https://github.com/Level/abstract-level) 3 database, at
 * `location` (a directory, created if missing): `open`/`close`, `get`, `getSync`, `getMany`,
 * `has`, `hasMany`, `put`, `del`, `batch` (array or chained; atomic), iterators (`iterator`,
 * `keys`, `values`) with `gt`/`gte`/`lt`/`lte`/`reverse`/`limit` and `seek`, `clear` with a
 * range, explicit snapshots (`snapshot()`), sublevels and every encoding abstract-level has.
 * Keys sort bytewise. Every iterator reads from a snapshot taken when it is created; a point
 * read is served on the calling thread at once, so it sees exactly the writes that finished
 * before the call. Errors carry abstract-level's codes (`KvdLevelError`).
 */
export class KvdLevel<KDefault = string, VDefault = string> extends AbstractLevel<
  LevelData,
  KDefault,
  VDefault
> {
  /** The store's directory, as given. */
  readonly location: string;
  private readonly storeOptions: StoreOptions | undefined;
  private opened: Store | undefined;

  /**
   * A database at `location`, opened on the next tick (abstract-level's deferred open: calls
   * made meanwhile wait for it). `options.store` goes to `Store.open`; `createIfMissing`
   * (default true) and `errorIfExists` (default false) are checked at each open, a directory
   * that exists and is not empty counting as an existing store.
   */
  constructor(location: string, options?: KvdLevelOptions<KDefault, VDefault>) {
    const { store, ...levelOptions } = options ?? {};
    super(MANIFEST, levelOptions);
    if (typeof location !== 'string' || location === '') {
      throw new TypeError("The first argument 'location' must be a non-empty string");
    }
    this.location = location;
    this.storeOptions = store;
  }

  /** @internal */
  async _open(options: LevelOpenOptions): Promise<void> {
    const exists = await storeExists(this.location);
    if (!exists && !options.createIfMissing) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `${this.location}: does not exist (createIfMissing is false)`,
      );
    }
    if (exists && options.errorIfExists) {
      throw new KvError('KV_INVALID_ARGUMENT', `${this.location}: exists (errorIfExists is true)`);
    }
    this.opened = await mapRejection(Store.open(this.location, this.storeOptions));
  }

  /** @internal */
  async _close(): Promise<void> {
    const store = this.opened;
    this.opened = undefined;
    await store?.close();
  }

  /** @internal */
  async _get(key: LevelData, options: LevelReadOptions): Promise<LevelData | undefined> {
    return this._getSync(key, options);
  }

  /** @internal */
  _getSync(key: LevelData, options: LevelReadOptions): LevelData | undefined {
    const snapshot = kvdSnapshotOf(options.snapshot);
    const value = mapErrors(() =>
      snapshot === undefined ? this.store.getSync(key) : snapshot.getSync(key),
    );
    return asFormatOrUndefined(value, options.valueEncoding ?? 'utf8');
  }

  /** @internal */
  async _getMany(
    keys: readonly LevelData[],
    options: LevelReadOptions,
  ): Promise<(LevelData | undefined)[]> {
    return keys.map((key) => this._getSync(key, options));
  }

  /** @internal */
  async _has(key: LevelData, options: LevelReadOptions): Promise<boolean> {
    return this.hasSync(key, options);
  }

  /** @internal */
  async _hasMany(keys: readonly LevelData[], options: LevelReadOptions): Promise<boolean[]> {
    return keys.map((key) => this.hasSync(key, options));
  }

  /** @internal */
  async _put(key: LevelData, value: LevelData): Promise<void> {
    await mapRejection(this.store.set(key, value));
  }

  /** @internal */
  async _del(key: LevelData): Promise<void> {
    await mapRejection(this.store.delete(key));
  }

  /** @internal One atomic Store.batch. */
  async _batch(operations: readonly LevelBatchOperation[]): Promise<void> {
    const ops = operations.map(
      (op): BatchOp =>
        op.type === 'put'
          ? { type: 'set', key: op.key, value: op.value ?? '' }
          : { type: 'delete', key: op.key },
    );
    await mapRejection(this.store.batch(ops));
  }

  /** @internal */
  async _clear(options: LevelClearOptions): Promise<void> {
    await mapRejection(clearRange(this.store, kvdSnapshotOf(options.snapshot), options));
  }

  /** @internal */
  _iterator(options: LevelIteratorOptions): KvdLevelIterator<this> {
    return new KvdLevelIterator(this, options, this.cursor(options, options.values !== false));
  }

  /** @internal */
  _keys(options: LevelIteratorOptions): KvdLevelKeyIterator<this> {
    return new KvdLevelKeyIterator(this, options, this.cursor(options, false));
  }

  /** @internal */
  _values(options: LevelIteratorOptions): KvdLevelValueIterator<this> {
    return new KvdLevelValueIterator(this, options, this.cursor(options, true));
  }

  /** @internal */
  _snapshot(options: SnapshotOwnerOptions): KvdLevelSnapshot {
    return new KvdLevelSnapshot(
      options,
      mapErrors(() => this.store.snapshot()),
    );
  }

  /** The open store; abstract-level calls the private methods only while it is open. */
  private get store(): Store {
    if (this.opened === undefined) {
      throw new KvError('KV_CLOSED', 'the database is not open');
    }
    return this.opened;
  }

  private hasSync(key: LevelData, options: LevelReadOptions): boolean {
    const snapshot = kvdSnapshotOf(options.snapshot);
    return mapErrors(() =>
      snapshot === undefined
        ? this.store.version(key) !== undefined
        : snapshot.getSync(key) !== undefined,
    );
  }

  /** A walk of `options`' range in the explicit snapshot, or in one taken now. */
  private cursor(options: LevelIteratorOptions, values: boolean): LevelCursor {
    const explicit = kvdSnapshotOf(options.snapshot);
    const snapshot = explicit ?? mapErrors(() => this.store.snapshot());
    return new LevelCursor(snapshot, explicit === undefined, options, values);
  }
}

/** The kvd snapshot behind an explicit abstract-level snapshot, if it is one of KvdLevel's. */
function kvdSnapshotOf(snapshot: AbstractSnapshot | undefined): Snapshot | undefined {
  if (snapshot === undefined || snapshot === null) return undefined;
  if (snapshot instanceof KvdLevelSnapshot) return snapshot.kvd;
  throw new TypeError('The snapshot option must be a snapshot of a KvdLevel database');
}

/** Whether `dir` holds a store: it exists and is not empty. */
async function storeExists(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new KvError('KV_IO', `cannot read ${dir}: ${String(error)}`, { cause: error });
  }
}
