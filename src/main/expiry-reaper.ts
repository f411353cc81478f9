// Owns lazy expiry on the caller's thread: when a read finds a key's current record expired, the
// key is queued for the writer to delete (OP_REAP: the writer checks the expiry again, so a
// newer write of the key is never deleted), once per key per turn of the event loop. So
// DBSIZE, KEYS and SCAN stop counting a key a read found expired, as in Redis.

import { Buffer } from 'node:buffer';
import type { KeyInput } from '../shared/key-bytes.js';
import { OP_REAP } from '../shared/write-ops.js';
import type { WriteQueue } from './write-queue.js';

/** Queues reaps of expired keys to the writer. Caller's thread only. */
export class ExpiryReaper {
  /** Keys queued this turn (strings as given; bytes as latin1 text), so a hot key goes once. */
  private queued = new Set<string>();
  private clearing = false;

  constructor(private readonly writes: WriteQueue) {}

  /** Queues a reap of `key` (the caller found it expired); never throws, never waits. */
  reap(key: KeyInput): void {
    const id = typeof key === 'string' ? `s${key}` : `b${Buffer.from(key).toString('latin1')}`;
    if (this.queued.has(id)) return;
    this.queued.add(id);
    if (!this.clearing) {
      this.clearing = true;
      setImmediate(() => {
        this.clearing = false;
        this.queued.clear();
      });
    }
    // The outcome does not matter to the reader: a failed reap leaves the key to the next one.
    this.writes.enqueueOperation(OP_REAP, 0, key, '', 0).catch(() => {});
  }
}
