// Owns the caller-side half of pooled reads: the gets issued in one tick are coalesced into
// a few getMany tasks (one per reader thread at most), so a thread hop carries many keys.

import type { Piscina } from 'piscina';
import { deserializeError, KvError } from '../shared/errors.js';
import type { KeyInput } from '../shared/key-bytes.js';
import type { ReadReply, ReadTask } from '../shared/messages.js';
import { packKeys, unpackKeys, unpackValues } from '../shared/read-batch.js';

interface PendingGet {
  readonly key: KeyInput;
  readonly resolve: (value: Buffer | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** Below this many keys a tick's gets go to one reader; above, they are split across readers. */
const KEYS_PER_TASK_BEFORE_SPLIT = 64;

/**
 * Coalesces one tick's gets into getMany tasks for the reader pool. Caller's thread only;
 * rejects with the reader's `KvError` (`KV_CORRUPTION`, `KV_IO`, …).
 */
export class ReadQueue {
  private pending: PendingGet[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly pool: Piscina,
    private readonly readers: number,
  ) {}

  /** Queues one get for this tick's coalesced task. */
  get(key: KeyInput): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Runs one task per slice of `keys`, split across readers when there are many. */
  async getMany(keys: readonly KeyInput[]): Promise<(Buffer | undefined)[]> {
    const slices = this.split(keys.length);
    const parts = await Promise.all(
      slices.map(([from, to]) => this.runGetMany(keys.slice(from, to))),
    );
    return parts.length === 1 ? parts[0]! : parts.flat();
  }

  /**
   * The keys at `locations` ((handle, offset, length) triples), read by the readers in
   * parallel slices. Expired records are left out.
   */
  async keysAt(locations: Uint32Array): Promise<Buffer[]> {
    const count = locations.length / 3;
    const per = Math.max(1024, Math.ceil(count / this.readers));
    const parts: Promise<Buffer[]>[] = [];
    for (let from = 0; from < count; from += per) {
      const slice = locations.slice(from * 3, Math.min(count, from + per) * 3);
      parts.push(
        this.run({ kind: 'keysAt', locations: slice.buffer }).then((packed) =>
          unpackKeys(packed).map((k) => Buffer.from(k.buffer, k.byteOffset, k.length)),
        ),
      );
    }
    return (await Promise.all(parts)).flat();
  }

  /** Presence of each key, as one task. */
  async has(keys: readonly KeyInput[]): Promise<boolean[]> {
    const reply = await this.run({ kind: 'has', keys: packKeys(keys) });
    return Array.from(new Uint8Array(reply), (b) => b === 1);
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    for (const [from, to] of this.split(batch.length)) {
      const slice = batch.slice(from, to);
      this.runGetMany(slice.map((p) => p.key)).then(
        (values) => {
          for (let i = 0; i < slice.length; i++) slice[i]!.resolve(values[i]);
        },
        (error: unknown) => {
          for (const p of slice) p.reject(error);
        },
      );
    }
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
