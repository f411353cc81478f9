// Owns a first-in, first-out queue of a connection's requests (its replies owed, its requests
// waiting to start): taken from the front by an index, not `Array.shift`, and emptied whole.

import type { Request } from './request.js';

/** Requests in order. Main thread. */
export class RequestQueue {
  private items: Request[] = [];
  private head = 0;

  /** How many are queued. */
  get size(): number {
    return this.items.length - this.head;
  }

  push(request: Request): void {
    this.items.push(request);
  }

  /** The first one, still queued; undefined when empty. */
  peek(): Request | undefined {
    // Never read past the end: an out-of-bounds read slows the hot path that peeks.
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Takes the first one off (the queue must not be empty). */
  shift(): Request {
    const request = this.items[this.head++]!;
    if (this.head === this.items.length) this.clear();
    return request;
  }

  /** Drops every one queued. */
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
