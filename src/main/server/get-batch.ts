// Owns coalescing GETs: the GETs a connection starts in one pass over its requests are sent to
// the Store as one getMany (one reader task) when the pass ends.

import type { CommandStore, GetCoalescer } from './command-context.js';

interface Waiter {
  readonly resolve: (value: Buffer | undefined) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Collects keys from `get` until `flush`, then fetches them with one `getMany`. Main thread;
 * one per connection. If the getMany fails (one bad key fails the whole call), each key is
 * retried alone, so only the GETs at fault get an error.
 */
export class GetBatch implements GetCoalescer {
  private keys: Buffer[] = [];
  private waiters: Waiter[] = [];

  constructor(private readonly store: Pick<CommandStore, 'get' | 'getMany'>) {}

  /** The value of `key`; settles after the next `flush`. */
  get(key: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      this.keys.push(key);
      this.waiters.push({ resolve, reject });
    });
  }

  /** Sends the keys collected since the last flush, if any. */
  flush(): void {
    if (this.keys.length === 0) return;
    const keys = this.keys;
    const waiters = this.waiters;
    this.keys = [];
    this.waiters = [];
    if (keys.length === 1) {
      this.store.get(keys[0]!).then(waiters[0]!.resolve, waiters[0]!.reject);
      return;
    }
    this.store.getMany(keys).then(
      (values) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(values[i]);
      },
      () => {
        for (let i = 0; i < keys.length; i++) {
          this.store.get(keys[i]!).then(waiters[i]!.resolve, waiters[i]!.reject);
        }
      },
    );
  }
}
