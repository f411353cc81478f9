// Owns KvdSessionStore: express-session's Store on a kvd store (in-process, or a RemoteStore of
// a child or of a parent that shares its store). One key a session, `<prefix><sid>`, holding the
// session's JSON and expiring with its cookie through kvd's own expiry.

import { Buffer } from 'node:buffer';
import session from 'express-session';
import {
  type Bytes,
  KvError,
  type RangeKey,
  type RangeKeyValue,
  type RangeOptions,
  type Store,
} from '../index.js';

/** What KvdSessionStore needs of a store: `Store`, or a `RemoteStore` from `spawnStore`. */
export interface SessionBackend extends Pick<Store, 'get' | 'set' | 'delete' | 'expire' | 'batch'> {
  /** A range scan, as `Store.range`. */
  range(options: RangeOptions & { readonly values: false }): AsyncIterable<RangeKey>;
  /** A range scan, as `Store.range`. */
  range(options?: RangeOptions): AsyncIterable<RangeKeyValue>;
}

/** How sessions become bytes and back (default: JSON). */
export interface SessionSerializer {
  /** The session as a string to store. */
  stringify(data: session.SessionData): string;
  /** The session back from the stored string. */
  parse(text: string): session.SessionData;
}

/** The options of `new KvdSessionStore(options)`. */
export interface KvdSessionStoreOptions {
  /** The kvd store sessions live in: a `Store` or a `RemoteStore`. It is not closed by this store. */
  readonly store: SessionBackend;
  /** Prefix of every session's key (default `sess:`). */
  readonly prefix?: string;
  /** Lifetime in ms of a session whose cookie has no expiry (a browser-session cookie); default one day. */
  readonly ttl?: number;
  /** How sessions are turned into text (default JSON). */
  readonly serializer?: SessionSerializer;
}

/** The options' names, so a misspelt one is refused. */
const OPTION_NAMES: Record<keyof KvdSessionStoreOptions, true> = {
  store: true,
  prefix: true,
  ttl: true,
  serializer: true,
};

/** Sessions deleted in one batch by `clear()`. */
const CLEAR_BATCH = 1_000;
const DAY_MS = 86_400_000;

/** A Node-style callback, as express-session passes them: an error, or null and the result. */
export type SessionCallback<T = void> = (error: unknown, result?: T) => void;

/**
 * An express-session `Store` on kvd: `app.use(session({ store: new KvdSessionStore({ store }) }))`.
 * Each session is one key, `prefix + sid`, whose value is the session's JSON and whose kvd
 * expiry is the cookie's: `cookie.expires`, or now + `cookie.maxAge`, or now + `ttl` for a cookie
 * without either. `touch` only moves that expiry (nothing is rewritten). An expired session is
 * gone for every read; `all`, `length`, `ids` and `clear` read the prefix as a range. Errors from
 * the kvd store (KvError, with its code) go to express-session's callbacks.
 */
export class KvdSessionStore extends session.Store {
  private readonly store: SessionBackend;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly serializer: SessionSerializer;

  /**
   * Uses `options.store`; see `KvdSessionStoreOptions` for the rest. Throws
   * `KV_INVALID_ARGUMENT` for a missing store, an unknown option or a bad value.
   */
  constructor(options: KvdSessionStoreOptions) {
    super();
    checkOptions(options);
    const ttl = options.ttl ?? DAY_MS;
    this.store = options.store;
    this.prefix = options.prefix ?? 'sess:';
    this.ttl = ttl;
    this.serializer = options.serializer ?? JSON;
  }

  /** The session stored under `sid`, or null (absent or expired). */
  override get(sid: string, callback: SessionCallback<session.SessionData | null>): void {
    settle(
      this.store
        .get(this.key(sid))
        .then((bytes) =>
          bytes === undefined ? null : this.serializer.parse(bytes.toString('utf8')),
        ),
      callback,
    );
  }

  /** Stores the session under `sid`, expiring with its cookie (an already expired one is deleted). */
  override set(sid: string, data: session.SessionData, callback?: SessionCallback): void {
    const expiresAt = this.expiryOf(data);
    const key = this.key(sid);
    const written =
      expiresAt <= Date.now()
        ? this.store.delete(key).then(() => undefined)
        : this.store.set(key, this.serializer.stringify(data), { expiresAt });
    settle(written, callback);
  }

  /** Moves the session's expiry to its cookie's; the stored session is left as it is. */
  override touch(sid: string, data: session.SessionData, callback?: () => void): void {
    settle(
      this.store.expire(this.key(sid), this.expiryOf(data)).then(() => undefined),
      callback as SessionCallback | undefined,
    );
  }

  /** Deletes the session under `sid`. */
  override destroy(sid: string, callback?: SessionCallback): void {
    settle(
      this.store.delete(this.key(sid)).then(() => undefined),
      callback,
    );
  }

  /** Every live session, keyed by its id (as express-session's MemoryStore gives them). */
  override all(callback: SessionCallback<Record<string, session.SessionData>>): void {
    settle(
      (async () => {
        const sessions: Record<string, session.SessionData> = {};
        for await (const { key, value } of this.store.range({ prefix: this.prefix })) {
          sessions[this.sidOf(key)] = this.serializer.parse(value.toString('utf8'));
        }
        return sessions;
      })(),
      callback,
    );
  }

  /** How many live sessions there are. */
  override length(callback: SessionCallback<number>): void {
    settle(
      this.idList().then((ids) => ids.length),
      callback,
    );
  }

  /** The ids of every live session, in key order. */
  ids(callback: SessionCallback<string[]>): void {
    settle(this.idList(), callback);
  }

  /** Deletes every session (the keys under the prefix; nothing else in the store). */
  override clear(callback?: SessionCallback): void {
    settle(
      (async () => {
        let batch: { type: 'delete'; key: Bytes }[] = [];
        for await (const { key } of this.store.range({ prefix: this.prefix, values: false })) {
          batch.push({ type: 'delete', key });
          if (batch.length === CLEAR_BATCH) {
            await this.store.batch(batch);
            batch = [];
          }
        }
        if (batch.length > 0) await this.store.batch(batch);
      })(),
      callback,
    );
  }

  private async idList(): Promise<string[]> {
    const ids: string[] = [];
    for await (const { key } of this.store.range({ prefix: this.prefix, values: false })) {
      ids.push(this.sidOf(key));
    }
    return ids;
  }

  /** The session's expiry in ms since the epoch, from its cookie. */
  private expiryOf(data: session.SessionData): number {
    const cookie = data?.cookie as
      | { expires?: Date | string | null; maxAge?: number | null }
      | undefined;
    const expires = cookie?.expires;
    if (expires !== undefined && expires !== null) {
      const at = new Date(expires).getTime();
      if (Number.isFinite(at)) return at;
    }
    if (typeof cookie?.maxAge === 'number') return Date.now() + cookie.maxAge;
    return Date.now() + this.ttl;
  }

  private key(sid: string): string {
    return this.prefix + sid;
  }

  private sidOf(key: Buffer): string {
    return key.toString('utf8', Buffer.byteLength(this.prefix));
  }
}

/** Hands a promise's outcome to a Node-style callback (if there is one). */
function invalid(message: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', `KvdSessionStore: ${message}`);
}

function checkOptions(options: KvdSessionStoreOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(OPTION_NAMES, name))
      throw invalid(`unknown option ${name} (the options are store, prefix, ttl, serializer)`);
  }
  if (typeof options.store !== 'object' || options.store === null)
    throw invalid('needs { store }: a kvd Store or RemoteStore');
  if (options.prefix !== undefined && typeof options.prefix !== 'string')
    throw invalid('prefix must be a string');
  const ttl = options.ttl;
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0))
    throw invalid('ttl must be a positive number of ms');
  const serializer = options.serializer;
  if (
    serializer !== undefined &&
    (typeof serializer?.stringify !== 'function' || typeof serializer.parse !== 'function')
  )
    throw invalid('serializer must have stringify and parse');
}

function settle<T>(promise: Promise<T>, callback: SessionCallback<T> | undefined): void {
  promise.then(
    (result) => callback?.(null, result),
    (error: unknown) => callback?.(error),
  );
}
