// Owns spawnStore and RemoteStore: a kvd Store running in another process (a child, ipc-child.ts,
// or a parent that shares its store, ipc-share.ts), used over the IPC channel through the Store's
// own method names, with requests pipelined and replies matched by id. The end of the other
// process turns every pending and later call into KV_INTERNAL.

import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import {
  type BackupOptions,
  type BackupResult,
  type BatchOp,
  type Bytes,
  type CompactionResult,
  deserializeError,
  type ExpireCondition,
  KvError,
  type RangeEntry,
  type RangeKey,
  type RangeKeyValue,
  type RangeOptions,
  type SetOptions,
  type SetWithOptions,
  type SetWithResult,
  type Store,
  type StoreOptions,
  type StoreStats,
} from '../index.js';
import { IPC_RANGE_PAGE } from './ipc-dispatch.js';
import { childLink, type IpcLink } from './ipc-link.js';
import {
  IPC_OPEN_ID,
  type IpcArgs,
  type IpcChildConfig,
  type IpcOp,
  type IpcReply,
  type IpcRequest,
  type IpcResults,
} from './ipc-messages.js';

/** The members of `Store` a RemoteStore has too, with the same signatures (checked by `implements`). */
export type RemoteMethods =
  | 'dir'
  | 'set'
  | 'get'
  | 'getMany'
  | 'has'
  | 'delete'
  | 'batch'
  | 'incrBy'
  | 'append'
  | 'setWith'
  | 'getDelete'
  | 'expire'
  | 'persist'
  | 'keys'
  | 'range'
  | 'clear'
  | 'flush'
  | 'stats'
  | 'compact'
  | 'backup'
  | 'close'
  | 'isClosed';

interface Pending {
  resolve(value: IpcResults[IpcOp]): void;
  reject(error: KvError): void;
}

/**
 * Starts a kvd store in a child process (`child_process.fork` of `ipc-child.js`, with Node's
 * `advanced` serialization, so bytes travel as binary) and resolves once it has opened `dir`.
 * Call from any thread, then use the store from that thread. Rejects with `Store.open`'s errors
 * (`KV_LOCKED`, `KV_INVALID_ARGUMENT`, `KV_CORRUPTION`, `KV_IO`) only after the child has exited,
 * or with `KV_INTERNAL` if the child could not start. The child inherits `process.env` and
 * stderr, runs without this process's Node flags, and exits when this process does. Like
 * `Store.open`, the child logs nothing unless `options.logger` is `true`: then the store's JSON
 * lines (and the child's own) go to the inherited stderr. Rejects with `KV_INVALID_ARGUMENT`,
 * before starting the child, for a logger object or an `onRecoveryProgress` function, which
 * cannot cross the process boundary.
 */
export function spawnStore(dir: string, options: StoreOptions = {}): Promise<RemoteStore> {
  return RemoteStore.spawn(dir, options);
}

/**
 * A kvd store in another process: a child made by `spawnStore`, or the parent that shares its
 * own store (`connectSharedStore`). It has the `Store` methods named in `RemoteMethods` (same
 * arguments, results and error codes); not `getSync`, which cannot be synchronous across
 * processes. Call it from the thread that made it. Values come back as `Buffer`s. Calls may be
 * issued without waiting: they are pipelined, applied in the order issued, and each reply is
 * matched to its call by id. Once the other process is gone, every pending and later call
 * rejects with `KV_INTERNAL`.
 */
export class RemoteStore implements Pick<Store, RemoteMethods> {
  /** The process id of the process that runs the store (the child, or the sharing parent). */
  readonly pid: number;
  private readonly pending = new Map<number, Pending>();
  /** Calls not yet settled (a shared store's close waits for them). */
  private readonly calls = new Set<Promise<unknown>>();
  private readonly gone: Promise<void>;
  private nextId = IPC_OPEN_ID + 1;
  private death: KvError | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** @internal The implementation of `spawnStore` (which documents it). */
  static async spawn(dir: string, options: StoreOptions): Promise<RemoteStore> {
    const absolute = resolvePath(dir);
    if (options.onRecoveryProgress) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        'onRecoveryProgress is not supported by spawnStore (a function cannot cross processes)',
      );
    }
    if (options.logger !== undefined && typeof options.logger !== 'boolean') {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        'spawnStore takes logger: true (JSON lines on stderr) but not a logger object, which ' +
          'cannot cross processes',
      );
    }
    const config: IpcChildConfig = { dir: absolute, options };
    const child = fork(new URL('./ipc-child.js', import.meta.url), [JSON.stringify(config)], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
    });
    const remote = new RemoteStore(absolute, childLink(child));
    // The child answers the open it was started with, as the reply to IPC_OPEN_ID.
    await new Promise<IpcResults[IpcOp]>((resolve, reject) => {
      remote.pending.set(IPC_OPEN_ID, { resolve, reject });
    }).catch(async (error: unknown) => {
      await remote.gone; // a child that failed to open exits: no orphan outlives the rejection
      throw error;
    });
    return remote;
  }

  /** @internal The implementation of `connectSharedStore` (which documents it). */
  static async connect(link: IpcLink): Promise<RemoteStore> {
    const remote = new RemoteStore('', link);
    try {
      const { dir, bytes } = await remote.call('describe', {});
      if (!(bytes instanceof Uint8Array)) {
        throw new KvError(
          'KV_INVALID_ARGUMENT',
          "the IPC channel must use serialization: 'advanced' (fork's option, or " +
            'cluster.setupPrimary) so that keys and values travel as bytes',
        );
      }
      remote.directory = dir;
    } catch (error) {
      remote.closed = true;
      link.detach();
      throw error;
    }
    return remote;
  }

  private constructor(
    private directory: string,
    private readonly link: IpcLink,
  ) {
    this.pid = link.pid;
    this.gone = new Promise((resolve) => {
      link.start(
        (reply) => this.onReply(reply),
        (reason) => {
          this.onGone(reason);
          resolve();
        },
      );
    });
  }

  /** The store's directory (absolute). */
  get dir(): string {
    return this.directory;
  }

  /** Stores `value` under `key` in the child's store. Rejects like `Store.set`. */
  set(key: Bytes, value: Bytes, options?: SetOptions): Promise<void> {
    return this.call('set', { key, value, options });
  }

  /** The value stored under `key`, or undefined. Rejects like `Store.get`. */
  async get(key: Bytes): Promise<Buffer | undefined> {
    return toBuffer(await this.call('get', { key }));
  }

  /** Values for many keys, in order, in one request. Rejects like `Store.getMany`. */
  async getMany(keys: readonly Bytes[]): Promise<(Buffer | undefined)[]> {
    return (await this.call('getMany', { keys })).map(toBuffer);
  }

  /** Whether `key` has a value. Rejects like `Store.has`. */
  has(key: Bytes): Promise<boolean> {
    return this.call('has', { key });
  }

  /** Deletes `key`; resolves with whether it existed. Rejects like `Store.delete`. */
  delete(key: Bytes): Promise<boolean> {
    return this.call('delete', { key });
  }

  /** Applies all `ops` or none. Rejects like `Store.batch`. */
  batch(ops: readonly BatchOp[]): Promise<void> {
    return this.call('batch', { ops });
  }

  /** Adds `delta` to an integer value atomically; resolves with the new value. Rejects like `Store.incrBy`. */
  incrBy(key: Bytes, delta: number | bigint = 1): Promise<bigint> {
    return this.call('incrBy', { key, delta });
  }

  /** Appends to a value atomically; resolves with the new length. Rejects like `Store.append`. */
  append(key: Bytes, value: Bytes): Promise<number> {
    return this.call('append', { key, value });
  }

  /** A conditional set; resolves with whether it wrote and the previous value. Rejects like `Store.setWith`. */
  async setWith(key: Bytes, value: Bytes, options: SetWithOptions = {}): Promise<SetWithResult> {
    const r = await this.call('setWith', { key, value, options });
    return { written: r.written, previous: toBuffer(r.previous) };
  }

  /** Deletes `key` and resolves with the value it had. Rejects like `Store.getDelete`. */
  async getDelete(key: Bytes): Promise<Buffer | undefined> {
    return toBuffer(await this.call('getDelete', { key }));
  }

  /** Sets the key's expiry if `condition` allows; resolves with whether it was set. Rejects like `Store.expire`. */
  expire(
    key: Bytes,
    expiresAt: number,
    condition?: ExpireCondition | readonly ExpireCondition[],
  ): Promise<boolean> {
    return this.call('expire', { key, expiresAt, condition });
  }

  /** Removes the key's expiry; resolves with whether it had one. Rejects like `Store.persist`. */
  persist(key: Bytes): Promise<boolean> {
    return this.call('persist', { key });
  }

  /**
   * Merges every sealed segment in the child (see `Store.compact`; progress is not reported
   * across the process boundary). Rejects like `Store.compact`.
   */
  compact(): Promise<CompactionResult> {
    return this.call('compact', {});
  }

  /**
   * Backs the child's store up to `dir` (see `Store.backup`; a relative `dir` is resolved
   * against this process's working directory). Rejects like `Store.backup`.
   */
  backup(dir: string, options?: BackupOptions): Promise<BackupResult> {
    return this.call('backup', { dir: resolvePath(dir), options });
  }

  /** Every live key (see `Store.keys`). Rejects like `Store.keys`. */
  async keys(): Promise<Buffer[]> {
    return (await this.call('keys', {})).map((k) => toBuffer(k) as Buffer);
  }

  /**
   * The entries of a range scan (see `Store.range`, same options), fetched from the store's
   * process a page of `IPC_RANGE_PAGE` (1,024) entries at a time. Each page is read from a
   * snapshot of its own: a scan longer than a page may see writes made between its pages, but
   * never a key twice or out of order. Rejects like `Store.range`.
   */
  range(options: RangeOptions & { readonly values: false }): AsyncGenerator<RangeKey>;
  range(options?: RangeOptions): AsyncGenerator<RangeKeyValue>;
  async *range(options: RangeOptions = {}): AsyncGenerator<RangeEntry> {
    const limit = options.limit;
    let remaining = limit === undefined || limit < 0 ? Number.POSITIVE_INFINITY : limit;
    let bounds: RangeOptions = options;
    while (remaining > 0) {
      const asked = Math.min(remaining, IPC_RANGE_PAGE);
      const page = await this.call('range', { options: { ...bounds, limit: asked } });
      for (const entry of page) {
        const key = toBuffer(entry.key) as Buffer;
        yield entry.value === undefined ? { key } : { key, value: toBuffer(entry.value) as Buffer };
      }
      const last = page.at(-1);
      if (page.length < asked || last === undefined) return;
      remaining -= page.length;
      // The next page starts after the last key given (before it, in reverse).
      bounds = options.reverse
        ? { ...bounds, lt: last.key, lte: undefined }
        : { ...bounds, gt: last.key, gte: undefined };
    }
  }

  /** Deletes every key atomically; resolves with how many. Rejects like `Store.clear`. */
  clear(): Promise<number> {
    return this.call('clear', {});
  }

  /** Forces every write so far to disk. Rejects like `Store.flush`. */
  flush(): Promise<void> {
    return this.call('flush', {});
  }

  /** The child store's statistics. Rejects like `Store.stats`. */
  stats(): Promise<StoreStats> {
    return this.call('stats', {});
  }

  /**
   * Closes the store in the child (waiting for calls issued before it, flushing, syncing,
   * unlocking) and resolves once the child process has exited. Idempotent; later calls to other
   * methods reject with `KV_CLOSED`. Rejects with the child's close error (e.g. `KV_IO`), or
   * `KV_INTERNAL` if the child dies meanwhile; resolves at once if the child had already died.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    if (!this.link.ownsStore) {
      // A shared store stays open for its owner: wait for this caller's calls, then let go.
      this.closed = true;
      await Promise.allSettled(this.calls);
      this.link.detach();
      this.onGone('closed');
      return;
    }
    const request = this.death ? undefined : this.call('close', {});
    this.closed = true;
    try {
      await request;
    } finally {
      await this.gone;
    }
  }

  private call<Op extends IpcOp>(op: Op, args: IpcArgs[Op]): Promise<IpcResults[Op]> {
    if (this.closed) return Promise.reject(new KvError('KV_CLOSED', 'the store is closed'));
    if (this.death) return Promise.reject(this.death);
    const id = this.nextId++;
    const request = { ...args, id, op } as IpcRequest;
    const result = new Promise<IpcResults[Op]>((resolve, reject) => {
      // One cast: the reply to request `id` carries the result of its `op`.
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject });
      try {
        this.link.send(request, (error) => {
          if (error) this.settleFailed(id, new KvError('KV_INTERNAL', error.message));
        });
      } catch (error) {
        // Structured clone refused an argument (a function, a symbol, ...).
        const message = error instanceof Error ? error.message : String(error);
        this.settleFailed(id, new KvError('KV_INVALID_ARGUMENT', `cannot send ${op}: ${message}`));
      }
    });
    this.calls.add(result);
    const forget = () => this.calls.delete(result);
    result.then(forget, forget);
    return result;
  }

  private onReply(reply: IpcReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(deserializeError(reply.error));
  }

  private settleFailed(id: number, error: KvError): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.reject(this.death ?? error);
  }

  private onGone(reason: string): void {
    this.death ??= new KvError('KV_INTERNAL', reason);
    for (const pending of this.pending.values()) pending.reject(this.death);
    this.pending.clear();
  }
}

/** Structured clone may deliver a Buffer as a plain Uint8Array: view it as a Buffer. */
function toBuffer(value: Uint8Array | undefined): Buffer | undefined {
  if (value === undefined || Buffer.isBuffer(value)) return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
