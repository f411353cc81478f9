// Owns the public Store's per-key operations: validate input once, then delegate to the parts
// store-engine.ts starts: writes to the writer worker (one message per tick, via WriteQueue),
// reads through ReadQueue (on this thread or the reader pool), getSync to this thread's own
// RecordReader. Its state and whole-store operations are in store-base.ts.

import { Buffer } from 'node:buffer';
import { KvError } from '../shared/errors.js';
import { TYPE_DELETE } from '../shared/format.js';
import {
  OP_APPEND,
  OP_CLEAR,
  OP_EXPIRE,
  OP_GETDEL,
  OP_INCRBY,
  OP_SET,
} from '../shared/write-ops.js';
import { checkPut, encodeBatch, encodePut } from './batch-encoding.js';
import { PromisedRead, PromisedSet } from './call-targets.js';
import {
  checkDelta,
  checkExpiresAt,
  checkOptionNames,
  expireFlags,
  SET_OPTION_NAMES,
  SET_WITH_OPTION_NAMES,
  setWithFlags,
} from './op-encoding.js';
import type { StoreOptions } from './options.js';
import type { ReadTarget } from './read-queue.js';
import { StoreBase } from './store-base.js';
import { type StoreEngine, startEngine } from './store-engine.js';
import type {
  BatchOp,
  BatchOptions,
  Bytes,
  Entry,
  ExpireCondition,
  SetOptions,
  SetWithOptions,
  SetWithResult,
} from './store-types.js';
import type { WriteTarget } from './write-queue.js';

/**
 * A kvd store: an append-only log on disk with a shared in-memory index. Open one with
 * `Store.open`; call its methods from the thread that opened it. All methods but `getSync`
 * return promises; every failure is a `KvError` with a stable `code`.
 */
export class Store extends StoreBase {
  private constructor(e: StoreEngine) {
    super(e);
  }

  /**
   * Opens (creating if needed) the store in `dir`: locks the directory, starts the writer
   * (which recovers the index from the log) and the reader pool. Throws `KV_LOCKED` if another
   * live process or Store has it open, `KV_CORRUPTION` if a sealed segment is damaged,
   * `KV_INVALID_ARGUMENT` for bad options or a `dir` that is not a non-empty string (`''`
   * would be the working directory), `KV_IO` for file system errors.
   */
  static async open(dir: string, options?: StoreOptions): Promise<Store> {
    let store: Store | undefined;
    store = new Store(await startEngine(dir, options, (error) => store?.fail(error)));
    return store;
  }

  /**
   * Stores `value` under `key`. Resolves once the write is appended (and synced under `always`)
   * and visible to every read. Rejects with `KV_KEY_TOO_LARGE`, `KV_VALUE_TOO_LARGE`,
   * `KV_INVALID_ARGUMENT`, `KV_CLOSED`, `KV_DISK_FULL` or `KV_IO`.
   */
  set(key: Bytes, value: Bytes, options?: SetOptions): Promise<void> {
    // Not `async`: the hot write path saves a promise and a microtask per call.
    return new Promise((resolve, reject) => {
      // An option set misspelt (`ttl` for `expiresAt`) must not write a key that never expires.
      if (options !== undefined) checkOptionNames(options, SET_OPTION_NAMES, 'set');
      this.setFor(new PromisedSet(resolve, reject), key, value, options?.expiresAt ?? 0);
    });
  }

  /**
   * The value stored under `key`, or undefined. The gets issued in one turn of the event loop are
   * served together: on this thread if there are at most `inlineReadKeys` of them, else by the
   * reader pool as one task per reader. Rejects with `KV_CORRUPTION` if the record fails its checksum,
   * `KV_KEY_TOO_LARGE`, `KV_INVALID_ARGUMENT`, `KV_CLOSED` or `KV_IO`.
   */
  get(key: Bytes): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      this.getFor(new PromisedRead(key, resolve, reject));
    });
  }

  /**
   * `get` for a caller that takes the outcome itself (the daemon's GET: no promise per request):
   * reads `target.readKey` in the same batches as `get` and calls `target.readDone` or
   * `target.readFailed` (at once for a closed store or a bad key) with `get`'s values and errors.
   */
  getFor(target: ReadTarget): void {
    try {
      this.checkOpen();
      this.checkKey(target.readKey);
    } catch (error) {
      target.readFailed(error);
      return;
    }
    this.e.reads.enqueue(target);
  }

  /**
   * `set` for a caller that takes the outcome itself (the daemon's SET): calls
   * `target.writeDone` once the write is appended and visible, or `target.writeFailed` with
   * `set`'s errors (at once for a closed store or a refused key, value or expiry).
   */
  setFor(target: WriteTarget, key: Bytes, value: Bytes, expiresAt = 0): void {
    try {
      this.checkOpen();
      checkPut(key, value, expiresAt, this.e.options);
    } catch (error) {
      target.writeFailed(error);
      return;
    }
    this.e.writes.enqueuePutFor(target, key, value, expiresAt);
  }

  /**
   * The value stored under `key`, read synchronously on the calling thread (lowest latency; it
   * blocks for one read: a memory copy from the segment's map, or one pread). Throws like `get`.
   */
  getSync(key: Bytes): Buffer | undefined {
    this.checkOpen();
    this.checkKey(key);
    return this.e.reads.getSync(key);
  }

  /**
   * Values for many keys, in order: read on this thread if there are at most `inlineReadKeys`,
   * else by the reader pool (one task per reader). Rejects like `get`.
   */
  async getMany(keys: readonly Bytes[]): Promise<(Buffer | undefined)[]> {
    this.checkOpen();
    if (!Array.isArray(keys))
      throw new KvError('KV_INVALID_ARGUMENT', 'getMany takes an array of keys');
    for (const k of keys) this.checkKey(k);
    return this.e.reads.getMany(keys);
  }

  /** Whether `key` has a value (an expired key has none). Served like `get`. Rejects like `get`. */
  async has(key: Bytes): Promise<boolean> {
    this.checkOpen();
    this.checkKey(key);
    const [present] = await this.e.reads.has([key]);
    return present === true;
  }

  /**
   * Deletes `key`; resolves with whether it existed (a key whose expiry has passed did not, as
   * for `get`). Rejects like `set`.
   */
  async delete(key: Bytes): Promise<boolean> {
    this.checkOpen();
    this.checkKey(key);
    return this.e.writes.enqueue({ type: TYPE_DELETE, key, value: '', expiresAt: 0 });
  }

  /**
   * Applies all `ops` or none, even across a crash (one commit record seals them). With
   * `options.ifVersions` (or `ifAbsentSince`), only if every listed key still has the version
   * given (else rejects with `KV_CONFLICT` and writes nothing). With no `ops`, only checks the
   * versions, all at one point in the write order. Rejects like `set`, or with
   * `KV_VALUE_TOO_LARGE` if the batch passes 1 GiB encoded.
   */
  async batch(ops: readonly BatchOp[], options?: BatchOptions): Promise<void> {
    this.checkOpen();
    const encoded = encodeBatch(ops, options, this.e.options);
    if (encoded.ops.length > 0) await this.e.writes.enqueueBatch(encoded.ops, encoded.checks);
    else if (encoded.checks.length > 0) await this.e.writes.enqueueChecks(encoded.checks);
  }

  /**
   * The version of `key`'s value: the sequence number of its current record, which changes
   * with every write of the key (undefined if the key is absent or expired). Pass it to
   * `batch(ops, { ifVersions })` to write only if the key did not change meanwhile. Read on
   * the calling thread, like `getSync`. Throws like `getSync`.
   */
  version(key: Bytes): number | undefined {
    this.checkOpen();
    this.checkKey(key);
    return this.e.localReader.version(key);
  }

  /**
   * The sequence number through which every write is visible to this thread's reads: a key
   * read after it shows every write numbered up to it. Read it before finding keys absent to
   * condition a batch on their staying absent (`batch(ops, { ifAbsentSince })`). Synchronous.
   */
  sequence(): number {
    this.checkOpen();
    return this.e.index.publishedSeq;
  }

  /**
   * The value of `key` with its version and expiry, from one read (so the three agree), or
   * undefined. Synchronous on the calling thread, like `getSync`. Throws like `getSync`.
   */
  entrySync(key: Bytes): Entry | undefined {
    this.checkOpen();
    this.checkKey(key);
    return this.e.localReader.entry(key);
  }

  /**
   * Adds `delta` (default 1) to the integer stored under `key` (an absent key counts as 0),
   * atomically: the writer applies it in order with every other write. Keeps the key's expiry.
   * Resolves with the new value. Rejects with `KV_NOT_INTEGER` if the stored value is not a
   * base-10 signed 64-bit integer or the result overflows (nothing changes then), and like `set`.
   */
  incrBy(key: Bytes, delta: number | bigint = 1): Promise<bigint> {
    return this.operation(() => {
      this.checkKey(key);
      checkDelta(delta);
      return this.e.writes.enqueueOperation(OP_INCRBY, 0, key, String(delta), 0);
    }).then((r) => r.integer ?? 0n);
  }

  /**
   * Appends `value` to the value stored under `key` (an absent key counts as empty), atomically.
   * Keeps the key's expiry. Resolves with the new length in bytes. Rejects with
   * `KV_VALUE_TOO_LARGE` if the result would pass `maxValueBytes`, and like `set`.
   */
  append(key: Bytes, value: Bytes): Promise<number> {
    return this.operation(() => {
      encodePut(key, value, 0, this.e.options);
      return this.e.writes.enqueueOperation(OP_APPEND, 0, key, value, 0);
    }).then((r) => Number(r.integer ?? 0n));
  }

  /**
   * A conditional `set`, atomic against every other write: `ifAbsent` writes only if the key
   * has no value, `ifPresent` only if it has one; `returnPrevious` answers the value it had;
   * `keepExpiry` keeps the key's expiry instead of setting `expiresAt`. Resolves with whether it
   * wrote and the previous value (when asked). Rejects like `set`.
   */
  setWith(key: Bytes, value: Bytes, options: SetWithOptions = {}): Promise<SetWithResult> {
    return this.operation(() => {
      checkOptionNames(options, SET_WITH_OPTION_NAMES, 'setWith');
      const op = encodePut(key, value, options.expiresAt ?? 0, this.e.options);
      return this.e.writes.enqueueOperation(
        OP_SET,
        setWithFlags(options),
        key,
        value,
        op.expiresAt,
      );
    }).then((r) => ({ written: r.applied, previous: asBuffer(r.previous) }));
  }

  /** Deletes `key` and resolves with the value it had (undefined if none), atomically. Rejects like `set`. */
  getDelete(key: Bytes): Promise<Buffer | undefined> {
    return this.operation(() => {
      this.checkKey(key);
      return this.e.writes.enqueueOperation(OP_GETDEL, 0, key, '', 0);
    }).then((r) => asBuffer(r.previous));
  }

  /**
   * Sets the key's expiry to `expiresAt` (ms since the epoch; a time already past deletes the
   * key now), if `condition` (NX/XX/GT/LT) allows. Resolves with whether it was set (false if
   * the key has no value or the condition failed). Rejects like `set`.
   */
  expire(
    key: Bytes,
    expiresAt: number,
    condition?: ExpireCondition | readonly ExpireCondition[],
  ): Promise<boolean> {
    return this.operation(() => {
      this.checkKey(key);
      checkExpiresAt(expiresAt);
      return this.e.writes.enqueueOperation(OP_EXPIRE, expireFlags(condition), key, '', expiresAt);
    }).then((r) => r.applied);
  }

  /**
   * Deletes every key, atomically (one batch of tombstones, applied by the writer between two
   * other writes; Redis's FLUSHALL). Resolves with how many keys it deleted. It reads every key
   * from the log on the writer thread, so other writes wait meanwhile (about 1 µs a key).
   */
  clear(): Promise<number> {
    return this.operation(() => this.e.writes.enqueueOperation(OP_CLEAR, 0, '', '', 0)).then((r) =>
      Number(r.integer ?? 0n),
    );
  }

  /** Removes the key's expiry; resolves with whether it had one. Rejects like `set`. */
  persist(key: Bytes): Promise<boolean> {
    return this.operation(() => {
      this.checkKey(key);
      return this.e.writes.enqueueOperation(OP_EXPIRE, 0, key, '', 0);
    }).then((r) => r.applied);
  }

  /**
   * The key's expiry, read on the calling thread: ms since the epoch, 0 if it has none,
   * undefined if the key has no value. Throws like `getSync`.
   */
  expirySync(key: Bytes): number | undefined {
    this.checkOpen();
    this.checkKey(key);
    return this.e.localReader.getWithExpiry(key)?.expiresAt;
  }
}

function asBuffer(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined
    ? undefined
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
