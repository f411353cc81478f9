// Owns KeyvKvd: a Keyv 5 storage adapter on one kvd Store (passed in, or opened lazily from a
// directory and closed by disconnect), with TTLs as kvd's own expiry, namespaces as key
// prefixes, clear and the iterator as prefix range scans; and createKeyv, a Keyv wired to it.

import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { Keyv, type KeyvOptions, type KeyvStoreAdapter } from 'keyv';
import { type BatchOp, type Bytes, KvError, Store, type StoreOptions } from '../index.js';

/** Keys `clear()` deletes per atomic batch unless `clearBatchSize` says otherwise. */
const DEFAULT_CLEAR_BATCH = 1000;
/** Entries the iterator reads per range-scan slice (one slice is read synchronously). */
const ITERATOR_SLICE = 512;
/** `:`, the separator Keyv puts between a namespace and a key (`namespace:key`). */
const SEPARATOR = 0x3a;

/** Options of `new KeyvKvd(storeOrDir, options)`. */
export interface KeyvKvdOptions {
  /**
   * Options of the store the adapter opens when given a directory, passed to `Store.open` as
   * they are (an unknown name fails the open with `KV_INVALID_ARGUMENT`). Refused with a
   * `Store` passed in, which is already open.
   */
  store?: StoreOptions;
  /**
   * Whether `disconnect()` closes a `Store` passed in (default false: it stays the caller's).
   * A store the adapter opened from a directory is always closed by `disconnect()`, so `false`
   * is refused there.
   */
  closeStore?: boolean;
  /** Keys `clear()` deletes per atomic batch (default 1,000). */
  clearBatchSize?: number;
  /**
   * With no namespace set, whether `clear()` and `iterator()` take every key of the store
   * (`clear()` is then `Store.clear()`, atomic). Default false: only the keys outside every
   * namespace, that is keys with no `:` (Keyv writes a namespaced key as `namespace:key`), as
   * @keyv/redis spares its namespaced keys.
   */
  noNamespaceAffectsAll?: boolean;
}

/** Every option name `KeyvKvdOptions` has: any other is refused. */
const OPTION_NAMES: ReadonlySet<string> = new Set([
  'store',
  'closeStore',
  'clearBatchSize',
  'noNamespaceAffectsAll',
]);

/** `KeyvKvd.opts`: what Keyv and its tools read from an adapter. */
export interface KeyvKvdSettings {
  /** Always `'kvd'`. */
  dialect: 'kvd';
  /** `kvd://` and the store's absolute directory (for display: nothing connects to it). */
  url: string;
  /** Keys `clear()` deletes per atomic batch. */
  clearBatchSize: number;
  /** See `KeyvKvdOptions.noNamespaceAffectsAll`. */
  noNamespaceAffectsAll: boolean;
}

/** One entry of `setMany`, as Keyv passes it: the key, the serialized value, the ttl in ms. */
export interface KeyvKvdEntry {
  /** The key, as Keyv passes it (`namespace:key` with Keyv's default key prefixing). */
  key: string;
  /** The value, stored as given: a string as its UTF-8 bytes, bytes as they are. */
  value: Bytes;
  /** Time to live in ms; undefined or 0: none. */
  ttl?: number;
}

/**
 * A [Keyv](https://github.com/jaredwray/keyv) 5 storage adapter on a kvd `Store`:
 * `new Keyv({ store: new KeyvKvd('./cache') })`. Keys come from Keyv already prefixed with
 * its namespace (`namespace:key`) and are stored as given; values are stored as Keyv hands
 * them in (its serialized string, as UTF-8) and read back as strings. A ttl becomes the key's
 * kvd expiry (`expiresAt = Date.now() + ttl`), so kvd itself expires the key. Every failure
 * rejects with the store's `KvError`; a failed `get`, which Keyv turns into a miss without a
 * word, also emits `'error'` (Keyv re-emits it). Call it from the thread that opened the store.
 */
export class KeyvKvd extends EventEmitter implements KeyvStoreAdapter {
  /** What Keyv reads from an adapter: the dialect, a display URL and the clear settings. */
  readonly opts: KeyvKvdSettings;
  /**
   * The namespace Keyv set (Keyv assigns it; default `'keyv'`): the prefix `clear()` deletes
   * and, when `iterator()` is called without one, the prefix it walks.
   */
  namespace: string | undefined;
  private readonly dir: string | undefined;
  private readonly storeOptions: StoreOptions | undefined;
  private readonly closeStore: boolean;
  private opened: Store | undefined;
  private opening: Promise<Store> | undefined;
  private disconnecting: Promise<void> | undefined;

  /**
   * An adapter on `storeOrDir`: an open `Store`, used as is, or a directory, whose store is
   * opened (with `options.store`) by the first call that needs it, one open shared by the
   * calls that arrive meanwhile; a failed open is retried by the next call. Throws
   * `KV_INVALID_ARGUMENT` for anything else or for a bad option.
   */
  constructor(storeOrDir: Store | string, options: KeyvKvdOptions = {}) {
    super();
    const settings = checkOptions(options);
    if (storeOrDir instanceof Store) {
      if (options.store !== undefined) {
        throw invalid('options.store applies only when the adapter opens the store itself');
      }
      this.opened = storeOrDir;
      this.closeStore = options.closeStore ?? false;
    } else if (typeof storeOrDir === 'string' && storeOrDir !== '') {
      if (options.closeStore === false) {
        throw invalid(
          'a store the adapter opens is closed by disconnect(): closeStore cannot be false',
        );
      }
      this.dir = resolve(storeOrDir);
      this.storeOptions = options.store;
      this.closeStore = true;
    } else {
      throw invalid('storeOrDir must be a kvd Store or a directory path');
    }
    this.opts = { dialect: 'kvd', url: `kvd://${this.dir ?? this.opened!.dir}`, ...settings };
  }

  /**
   * The value stored under `key` as a UTF-8 string, or undefined; read like `Store.get`.
   * `Value` is there for Keyv's adapter type only (it deserializes the string itself): the
   * answer is always the stored string.
   */
  async get<Value = string>(key: string): Promise<Value | undefined> {
    try {
      const store = this.opened ?? (await this.open());
      return stored<Value>(await store.get(key));
    } catch (error) {
      // Keyv 5 answers a rejected get with undefined and no event: say it here.
      if (this.listenerCount('error') > 0) this.emit('error', error);
      throw error;
    }
  }

  /**
   * The values of `keys` in order, as `get` answers them (undefined where absent): one
   * `Store.getMany`.
   */
  async getMany<Value = string>(keys: string[]): Promise<(Value | undefined)[]> {
    const store = this.opened ?? (await this.open());
    return (await store.getMany(keys)).map((value) => stored<Value>(value));
  }

  /**
   * Stores `value` under `key`, as given (a string as its UTF-8 bytes). A `ttl` in ms (Keyv
   * passes the call's, or its default) becomes kvd's expiry, `Date.now() + ttl`; none, 0 or a
   * non-finite ttl: no expiry. A negative one stores a value already expired.
   */
  async set(key: string, value: Bytes, ttl?: number): Promise<void> {
    const store = this.opened ?? (await this.open());
    const expiresAt = expiryOf(ttl);
    await store.set(key, value, expiresAt === 0 ? undefined : { expiresAt });
  }

  /** Stores every entry, each with its own ttl, in one atomic `Store.batch`. */
  async setMany(entries: KeyvKvdEntry[]): Promise<void> {
    const store = this.opened ?? (await this.open());
    const ops = entries.map(
      ({ key, value, ttl }): BatchOp => ({ type: 'set', key, value, expiresAt: expiryOf(ttl) }),
    );
    if (ops.length > 0) await store.batch(ops);
  }

  /** Deletes `key`; resolves with whether it had a value. */
  async delete(key: string): Promise<boolean> {
    const store = this.opened ?? (await this.open());
    return store.delete(key);
  }

  /**
   * Deletes every key of `keys` (each a `Store.delete`, issued together: not atomic as a
   * whole); resolves with whether any of them had a value.
   */
  async deleteMany(keys: string[]): Promise<boolean> {
    const store = this.opened ?? (await this.open());
    const existed = await Promise.all(keys.map((key) => store.delete(key)));
    return existed.includes(true);
  }

  /** Whether `key` has a value (an expired key has none). */
  async has(key: string): Promise<boolean> {
    const store = this.opened ?? (await this.open());
    return store.has(key);
  }

  /** Whether each of `keys` has a value, in order. */
  async hasMany(keys: string[]): Promise<boolean[]> {
    const store = this.opened ?? (await this.open());
    return Promise.all(keys.map((key) => store.has(key)));
  }

  /**
   * Deletes the namespace's keys: those starting `namespace:`, found by keys-only range
   * scans and deleted in atomic batches of `clearBatchSize` (the whole is not atomic; no scan
   * is held while a batch is written). With no namespace, the keys with no `:` in them, or,
   * with `noNamespaceAffectsAll`, every key of the store at once (`Store.clear()`).
   */
  async clear(): Promise<void> {
    const store = this.opened ?? (await this.open());
    const namespace = this.namespace;
    if (!namespace && this.opts.noNamespaceAffectsAll) {
      await store.clear();
      return;
    }
    const prefix = namespace ? `${namespace}:` : '';
    const size = this.opts.clearBatchSize;
    let after: Buffer | undefined;
    for (;;) {
      const ops: BatchOp[] = [];
      let scanned = 0;
      for (const { key } of store.rangeSync({
        ...bounds(prefix, after),
        limit: size,
        values: false,
      })) {
        scanned++;
        after = key;
        if (namespace || !key.includes(SEPARATOR)) ops.push({ type: 'delete', key });
      }
      if (ops.length > 0) await store.batch(ops);
      if (scanned < size) return;
    }
  }

  /**
   * Every `[key, value]` (strings, the key whole as stored) of `namespace` (default: the
   * adapter's), in key order, read in slices of 512 by range scans that each start after the
   * last key yielded: no scan is held between slices, so each key comes at most once, a key
   * written ahead of the walk may be seen and one written behind it is not. With no
   * namespace: the keys with no `:` (every key with `noNamespaceAffectsAll`).
   */
  async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const store = this.opened ?? (await this.open());
    const wanted = namespace ?? this.namespace;
    const prefix = wanted ? `${wanted}:` : '';
    const everyKey = Boolean(wanted) || this.opts.noNamespaceAffectsAll;
    let after: Buffer | undefined;
    for (;;) {
      const slice: [string, string][] = [];
      let scanned = 0;
      for (const { key, value } of store.rangeSync({
        ...bounds(prefix, after),
        limit: ITERATOR_SLICE,
      })) {
        scanned++;
        after = key;
        if (everyKey || !key.includes(SEPARATOR))
          slice.push([key.toString('utf8'), value.toString('utf8')]);
      }
      yield* slice;
      if (scanned < ITERATOR_SLICE) return;
    }
  }

  /**
   * Ends the adapter: every later call rejects with `KV_CLOSED`. Closes the store if the
   * adapter opened it (waiting for an open in progress) or `closeStore` is set; a `Store`
   * passed in otherwise stays open. Idempotent.
   */
  disconnect(): Promise<void> {
    this.disconnecting ??= this.shutdown();
    return this.disconnecting;
  }

  /** disconnect()'s work, run once; calls after it find `disconnecting` set and fail. */
  private async shutdown(): Promise<void> {
    let store = this.opened;
    this.opened = undefined;
    // An open in progress does not publish its store now (see open): close it here.
    if (store === undefined && this.opening !== undefined) {
      store = await this.opening.catch(() => undefined);
    }
    if (store !== undefined && this.closeStore) await store.close();
  }

  /** The store: opened from the directory by the first caller, shared by those meanwhile. */
  private open(): Promise<Store> {
    if (this.disconnecting !== undefined || this.dir === undefined) {
      return Promise.reject(new KvError('KV_CLOSED', 'the Keyv adapter was disconnected'));
    }
    this.opening ??= Store.open(this.dir, this.storeOptions).then(
      (store) => {
        if (this.disconnecting === undefined) this.opened = store;
        return store;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }
}

/**
 * A Keyv on a `KeyvKvd` adapter (`new KeyvKvd(storeOrDir, options)`), with `keyvOptions`
 * (namespace, ttl, serialization, …) and with `keyv.iterator()` working: see `enableIterator`.
 */
export function createKeyv<Value = unknown>(
  storeOrDir: Store | string,
  options?: KeyvKvdOptions,
  keyvOptions?: Omit<KeyvOptions, 'store'>,
): Keyv<Value> {
  return enableIterator(new Keyv<Value>(new KeyvKvd(storeOrDir, options), keyvOptions));
}

/**
 * Gives `keyv` (whose store must be a `KeyvKvd`) its `iterator()`: Keyv 5 builds one only for
 * the adapters its own list names (sqlite, postgres, mysql, mongo, redis, valkey, etcd), so
 * `new Keyv({ store: new KeyvKvd(…) }).iterator` is undefined until this is called. Keyv's
 * iterator walks the namespace Keyv has at each call and strips its prefix. Returns `keyv`.
 */
export function enableIterator<K extends Keyv>(keyv: K): K {
  const adapter: unknown = keyv.store;
  if (!(adapter instanceof KeyvKvd))
    throw invalid("enableIterator: the Keyv's store is not a KeyvKvd");
  keyv.iterator = keyv.generateIterator((namespace: string | undefined) =>
    adapter.iterator(namespace),
  );
  return keyv;
}

/** The settings of `options`, checked: throws `KV_INVALID_ARGUMENT` for a bad one. */
function checkOptions(options: KeyvKvdOptions): Omit<KeyvKvdSettings, 'dialect' | 'url'> {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw invalid(`unknown option ${name}`);
  }
  const size = options.clearBatchSize ?? DEFAULT_CLEAR_BATCH;
  if (!Number.isSafeInteger(size) || size < 1)
    throw invalid('clearBatchSize must be a positive integer');
  return { clearBatchSize: size, noNamespaceAffectsAll: options.noNamespaceAffectsAll === true };
}

/** kvd's `expiresAt` for a Keyv ttl in ms: 0 (none) for none, 0 or a non-finite ttl. */
function expiryOf(ttl: number | undefined): number {
  if (ttl === undefined || ttl === 0 || !Number.isFinite(ttl)) return 0;
  // Whole ms, rounded up (kvd takes integers); at least 1, as 0 would mean "never".
  return Math.max(1, Date.now() + Math.ceil(ttl));
}

/** The range bounds of a walk of `prefix` ('' for every key) from after `after`. */
function bounds(prefix: string, after: Buffer | undefined): { prefix?: string; gt?: Buffer } {
  return { ...(prefix === '' ? {} : { prefix }), ...(after === undefined ? {} : { gt: after }) };
}

/**
 * A stored value as Keyv reads it: a UTF-8 string. Keyv's adapter type has `get` answer its
 * own type parameter, though Keyv deserializes the string itself; hence the cast.
 */
function stored<Value>(value: Buffer | undefined): Value | undefined {
  return value?.toString('utf8') as Value | undefined;
}

function invalid(message: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', `KeyvKvd: ${message}`);
}
