// Owns the caller-side half of reads: the gets issued during one turn of the event loop, by
// every caller (all of the daemon's connections too), are coalesced; a batch of up to
// `inlineKeys` keys (one turn's gets, a getMany, a has) is read right here on the caller's
// thread (a read is a memory copy or one pread, far cheaper than a reader round trip), and a
// bigger one goes to the reader pool as a few getMany tasks (one per reader thread at most), so
// a thread hop carries many keys and the event loop is never blocked long. It counts the keys
// read each way (`stats().reads`).

import { Buffer } from 'node:buffer';
import type { Piscina } from 'piscina';
import { deserializeError, KvError } from '../shared/errors.js';
import type { KeyInput } from '../shared/key-bytes.js';
import { eachHashedAhead, type HashesAhead } from '../shared/key-groups.js';
import type { ReadReply, ReadTask } from '../shared/messages.js';
import {
  type DamagedLocation,
  packKeys,
  unpackKeysAt,
  unpackValues,
} from '../shared/read-batch.js';
import type { Bytes } from './store-types.js';

/**
 * Where a queued get's outcome goes: `Store.get`'s promise, or a daemon request that takes it
 * itself (`Store.getFor`, no promise per GET). Exactly one of the two methods is called, once.
 */
export interface ReadTarget {
  /** The key to read. */
  readonly readKey: Bytes;
  /** The value read, or undefined if the key is absent or expired. */
  readDone(value: Buffer | undefined): void;
  /** The read failed (`KV_CORRUPTION`, `KV_IO`, …). */
  readFailed(error: unknown): void;
}

/** What `keysAt` found: live keys, expired ones (to reap) and damaged records. */
export interface KeysAt {
  readonly keys: Buffer[];
  readonly expired: Buffer[];
  readonly damaged: DamagedLocation[];
}

/** Below this many keys a turn's gets go to one reader; above, they are split across readers. */
const KEYS_PER_TASK_BEFORE_SPLIT = 64;

/** Keys looked up since open (getSync, get, getMany, has; not keysAt), by where they were read. */
export interface ReadCounts {
  /** Read on the caller's thread: getSync, batches of up to `inlineKeys`, retried keys. */
  readonly inline: number;
  /** Read by the reader pool, in tasks that answered (a failed task's keys count as retried). */
  readonly pooled: number;
}

/** The caller thread's own reader, used for batches of up to `inlineKeys` keys. */
export interface InlineReader extends HashesAhead {
  /** The value of `key`; `ahead` is its place in the group `hashAhead` hashed last, if it was. */
  get(key: KeyInput, ahead?: number): Buffer | undefined;
  has(key: KeyInput, ahead?: number): boolean;
  /** `get` of each key, hashed a group ahead. */
  getMany(keys: readonly KeyInput[]): (Buffer | undefined)[];
}

/**
 * What keeps a multi-key read from seeing half of an atomic batch (the shared index's batch
 * generation and lock: IndexTable).
 */
export interface BatchVisibility {
  /** Odd while the writer publishes an atomic batch; reads between two equal even values saw none in part. */
  readonly batchGeneration: number;
  /** Runs `read` while no atomic batch can be half published. */
  readWithoutHalfBatches<T>(read: () => T): T;
}

/** A pooled getMany that saw a batch published meanwhile is read again this many times, then inline. */
const POOLED_ATTEMPTS = 3;

/**
 * Coalesces one turn's gets, and serves them, getMany and has either inline or through the
 * reader pool. Caller's thread only; rejects with the reader's `KvError` (`KV_CORRUPTION`,
 * `KV_IO`, …). Of the gets issued together, only those whose records are bad reject (a failed
 * pooled task is retried key by key inline); a getMany rejects as a whole.
 */
export class ReadQueue {
  private pending: ReadTarget[] = [];
  /** A setImmediate flush (inline batch) and a microtask flush (pooled batch) are queued. */
  private scheduled = false;
  private poolFlushQueued = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private inlineCount = 0;
  private pooledCount = 0;

  constructor(
    private readonly pool: Piscina,
    private readonly readers: number,
    private readonly inline: InlineReader,
    private readonly inlineKeys: number,
    private readonly batches: BatchVisibility,
  ) {}

  /**
   * Queues one get for this turn's batch; its outcome goes to `target` (`Store.get`'s promise
   * or a daemon request). A batch read here is read from setImmediate: after
   * the turn's I/O callbacks, so the GETs of every daemon connection that sent some this turn
   * are read in one pass, and a read always yields to the event loop (a loop of awaited inline
   * reads cannot starve timers and the writer's replies). A batch bound for the reader pool
   * (more than `inlineKeys`) is sent from a microtask instead: waiting for the turn's end would
   * put it behind every reply the pool's port delivers in that turn.
   */
  enqueue(target: ReadTarget): void {
    this.pending.push(target);
    if (this.pending.length > this.inlineKeys) {
      if (!this.poolFlushQueued) {
        this.poolFlushQueued = true;
        queueMicrotask(() => {
          this.poolFlushQueued = false;
          this.flush();
        });
      }
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** The keys read so far on this thread and by the pool. */
  counts(): ReadCounts {
    return { inline: this.inlineCount, pooled: this.pooledCount };
  }

  /** The value of `key`, read now on this thread (Store.getSync). Throws the reader's error. */
  getSync(key: KeyInput): Buffer | undefined {
    this.inlineCount++;
    return this.inline.get(key);
  }

  /**
   * Values of `keys`, in order, never showing part of an atomic batch: read inline if there are
   * at most `inlineKeys`, else one task per slice, split across readers when there are many.
   * A pooled read during which a batch was published is read again (up to `POOLED_ATTEMPTS`
   * times), then inline under the batch lock.
   */
  async getMany(keys: readonly KeyInput[]): Promise<(Buffer | undefined)[]> {
    if (keys.length > this.inlineKeys) {
      const slices = this.split(keys.length);
      for (let attempt = 0; attempt < POOLED_ATTEMPTS; attempt++) {
        const before = this.batches.batchGeneration;
        const parts = await Promise.all(
          slices.map(([from, to]) => this.runGetMany(keys.slice(from, to))),
        );
        if ((before & 1) === 0 && this.batches.batchGeneration === before)
          return parts.length === 1 ? parts[0]! : parts.flat();
      }
    }
    return this.nextTurn(() => this.getManyInline(keys));
  }

  /** Reads `keys` on this thread while no atomic batch can be half published. */
  private getManyInline(keys: readonly KeyInput[]): (Buffer | undefined)[] {
    this.inlineCount += keys.length;
    return this.batches.readWithoutHalfBatches(() => this.inline.getMany(keys));
  }

  /**
   * The keys at `locations` ((handle, offset, length) triples), read by the readers in
   * parallel slices. Expired records are left out; damaged ones are left out and listed.
   */
  async keysAt(locations: Uint32Array): Promise<KeysAt> {
    const count = locations.length / 3;
    const per = Math.max(1024, Math.ceil(count / this.readers));
    const parts: Promise<KeysAt>[] = [];
    const asBuffers = (keys: Uint8Array[]) =>
      keys.map((k) => Buffer.from(k.buffer, k.byteOffset, k.length));
    for (let from = 0; from < count; from += per) {
      const slice = locations.slice(from * 3, Math.min(count, from + per) * 3);
      parts.push(
        this.run({ kind: 'keysAt', locations: slice.buffer }).then((packed) => {
          const { keys, expired, damaged } = unpackKeysAt(packed);
          return { keys: asBuffers(keys), expired: asBuffers(expired), damaged };
        }),
      );
    }
    const done = await Promise.all(parts);
    return {
      keys: done.flatMap((p) => p.keys),
      expired: done.flatMap((p) => p.expired),
      damaged: done.flatMap((p) => p.damaged),
    };
  }

  /** Presence of each key, as one task. */
  async has(keys: readonly KeyInput[]): Promise<boolean[]> {
    if (keys.length <= this.inlineKeys)
      return this.nextTurn(() => {
        this.inlineCount += keys.length;
        const present: boolean[] = new Array(keys.length);
        eachHashedAhead(this.inline, keys, (i, ahead) => {
          present[i] = this.inline.has(keys[i]!, ahead);
        });
        return present;
      });
    const reply = await this.run({ kind: 'has', keys: packKeys(keys) });
    this.pooledCount += keys.length;
    return Array.from(new Uint8Array(reply), (b) => b === 1);
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    if (batch.length <= this.inlineKeys) {
      this.readInline(batch);
      return;
    }
    for (const [from, to] of this.split(batch.length)) {
      const slice = batch.slice(from, to);
      this.runGetMany(slice.map((p) => p.readKey)).then(
        (values) => {
          for (let i = 0; i < slice.length; i++) slice[i]!.readDone(values[i]);
        },
        // One bad record fails the whole task: read each key again here, so that only the
        // gets at fault reject.
        () => this.readInline(slice),
      );
    }
  }

  /** Runs `read` from setImmediate (so an inline read yields to the event loop like a pooled one). */
  private nextTurn<T>(read: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(read());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /**
   * Reads each pending get on this thread, hashed a group ahead, settling each alone (settling
   * never reads synchronously, so the group hashed ahead stays valid through it).
   */
  private readInline(batch: readonly ReadTarget[]): void {
    this.inlineCount += batch.length;
    const keys = batch.map((p) => p.readKey);
    eachHashedAhead(this.inline, keys, (i, ahead) => {
      const p = batch[i]!;
      let value: Buffer | undefined;
      try {
        value = this.inline.get(keys[i]!, ahead);
      } catch (error) {
        p.readFailed(error);
        return;
      }
      p.readDone(value);
    });
  }

  private split(count: number): [number, number][] {
    const tasks = Math.max(
      1,
      Math.min(this.readers, Math.ceil(count / KEYS_PER_TASK_BEFORE_SPLIT)),
    );
    const per = Math.ceil(count / tasks);
    const slices: [number, number][] = [];
    for (let from = 0; from < count || slices.length === 0; from += per)
      slices.push([from, Math.min(count, from + per)]);
    return slices;
  }

  private async runGetMany(keys: readonly KeyInput[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return [];
    const reply = await this.run({ kind: 'getMany', keys: packKeys(keys) });
    this.pooledCount += keys.length;
    return unpackValues(reply, keys.length);
  }

  /** Sends the gets queued now and waits until every task sent so far has answered. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
  }

  private async run(task: ReadTask): Promise<ArrayBuffer> {
    const sent = this.pool.run(task, {
      transferList: [task.kind === 'keysAt' ? task.locations : task.keys],
    });
    this.inFlight.add(sent);
    let reply: ReadReply;
    try {
      reply = (await sent) as ReadReply;
    } finally {
      this.inFlight.delete(sent);
    }
    if (reply instanceof ArrayBuffer) return reply;
    if (reply && typeof reply === 'object' && 'code' in reply) throw deserializeError(reply);
    throw new KvError('KV_INTERNAL', 'reader returned an unexpected reply');
  }
}
