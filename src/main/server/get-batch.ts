// Owns coalescing GETs: the GETs every connection starts during one turn of the event loop are
// read together once the turn's I/O callbacks have run: up to 1,024 on this thread with getSync,
// more as one getMany (split across the reader threads). One batch per Store, shared by all connections: a reader-task round trip
// costs far more than a read, so it must carry many keys even when each client sends one GET.

import type { CommandStore, GetCoalescer } from './command-context.js';

const shared = new WeakMap<object, GetBatch>();

/**
 * Up to this many keys a turn are read here with `getSync` (one pread each, ~1–3 µs for small
 * values): on the daemon that beats sending them to the reader pool, whose hand-offs cost more
 * than the preads they spread (redis-benchmark GET -P 16 -c 50: ~210k requests/s with a cap of
 * 16, ~300k with every key read here; bench/ANALYSIS.md). The cap bounds how long one turn can
 * block the event loop (1,024 preads of 4 KiB values is a few ms); more go to the reader pool.
 */
const SYNC_READ_MAX_KEYS = 1024;

interface Waiter {
  readonly resolve: (value: Buffer | undefined) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Collects keys from `get` until `flush`, then fetches them on this thread or with one
 * `getMany`. Main thread; one per store. If the getMany fails (one bad key fails the whole
 * call), each key is retried alone with `getSync`, so only the GETs at fault get an error.
 */
export class GetBatch implements GetCoalescer {
  private keys: Buffer[] = [];
  private waiters: Waiter[] = [];
  private scheduled = false;

  constructor(private readonly store: Pick<CommandStore, 'getMany' | 'getSync'>) {}

  /** Reads `keys` on this thread with getSync, settling each waiter alone. */
  private readHere(keys: readonly Buffer[], waiters: readonly Waiter[]): void {
    for (let i = 0; i < keys.length; i++) {
      try {
        waiters[i]!.resolve(this.store.getSync(keys[i]!));
      } catch (error) {
        waiters[i]!.reject(error);
      }
    }
  }

  /** The batch every connection of `store` shares. */
  static for(store: Pick<CommandStore, 'getMany' | 'getSync'>): GetBatch {
    let batch = shared.get(store);
    if (!batch) {
      batch = new GetBatch(store);
      shared.set(store, batch);
    }
    return batch;
  }

  /** The value of `key`; settles after the next `flush`. */
  get(key: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      this.keys.push(key);
      this.waiters.push({ resolve, reject });
    });
  }

  /**
   * Asks for the keys collected so far to be sent; they go at the end of this turn of the
   * event loop (setImmediate), together with every other connection's.
   */
  flush(): void {
    if (this.scheduled || this.keys.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.send();
    });
  }

  private send(): void {
    const keys = this.keys;
    const waiters = this.waiters;
    if (keys.length === 0) return;
    this.keys = [];
    this.waiters = [];
    if (keys.length <= SYNC_READ_MAX_KEYS) {
      this.readHere(keys, waiters);
      return;
    }
    this.store.getMany(keys).then(
      (values) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(values[i]);
      },
      // Retried one by one here: `get`s issued together would be coalesced into one getMany
      // again (read-queue.ts) and fail together.
      () => this.readHere(keys, waiters),
    );
  }
}
