// Owns the objects a get or a write leaves queued until its outcome comes back: where the
// outcome goes (a promise's resolve and reject) and, for a write, which records it owns. They
// are class instances, not object literals, on purpose (as range-entry.ts explains): V8 keeps an
// "allocation site" per object literal, and once most objects from one site outlive a
// young-generation collection, as 256 gets in flight or a turn's writes waiting for the writer
// do, it allocates every later object from that site in the old generation. Each such object
// then keeps what it points at (the promise, its callbacks, the value read) alive until a full
// collection, so they are promoted too: `get` with 256 in flight ran 150–330k keys/s with a full
// collection every 2–4 s, against 480–660k without the decision (bench/ANALYSIS.md, "Reads").
// Objects made by `new` of a class take no such decision.

import type { OpResult } from '../shared/write-ops.js';
import type { ReadTarget } from './read-queue.js';
import type { Bytes } from './store-types.js';

/** A get whose outcome settles a promise (`Store.get`). */
export class PromisedRead implements ReadTarget {
  constructor(
    readonly readKey: Bytes,
    readonly readDone: (value: Buffer | undefined) => void,
    readonly readFailed: (error: unknown) => void,
  ) {}
}

/**
 * Where a write's outcome goes: whether its key existed (and an operation's result), or why it
 * failed. The write queue's `WriteTarget` (the daemon's SET) is the same without the result.
 */
export interface OpTarget {
  writeDone(existed: boolean, result: OpResult | undefined): void;
  writeFailed(error: unknown): void;
}

/**
 * A plain put whose outcome settles `Store.set`'s promise with no value: one object a write,
 * where a `WriteOutcome` needed a closure besides to drop the `existed` flag.
 */
export class PromisedSet implements OpTarget {
  constructor(
    private readonly resolve: () => void,
    readonly writeFailed: (error: unknown) => void,
  ) {}

  writeDone(): void {
    this.resolve();
  }
}

/** An `OpTarget` made of two callbacks (a promise's, mostly). */
export class WriteOutcome implements OpTarget {
  constructor(
    readonly writeDone: (existed: boolean, result?: OpResult) => void,
    readonly writeFailed: (error: unknown) => void,
  ) {}
}

/** A write queued for the writer: its records in the turn's buffer, and where its outcome goes. */
export class QueuedWrite {
  constructor(
    readonly firstRecord: number,
    readonly records: number,
    readonly target: OpTarget,
  ) {}
}
