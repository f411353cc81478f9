// Owns the objects a range scan yields. They are class instances, not object literals, on
// purpose: V8 tracks an "allocation site" per object literal and, once most objects from one
// site outlive a young-generation collection (an async scan's slice of 512 entries held across
// a turn, an application keeping entries), it allocates every later object from that site
// straight in the old generation ("pretenuring"). Short scans then filled the old generation
// and ran a full collection every ~0.6 s: bench `range` with Node's
// --no-allocation-site-pretenuring ran 1.3–1.6× faster (bench/ANALYSIS.md). Objects made by
// `new` of a class take no such decision.

import type { RangeEntry } from './store-types.js';

/** A range entry with its value. */
export class ValueEntry implements RangeEntry {
  constructor(
    readonly key: Buffer,
    readonly value: Buffer,
  ) {}
}

/** A range entry of a keys-only scan (no `value` property, as the API says). */
export class KeyEntry implements RangeEntry {
  constructor(readonly key: Buffer) {}
}

/** A range entry with its expiry (the replication's full resync; see range-scan.ts). */
export class ExpiringEntry {
  constructor(
    readonly key: Buffer,
    readonly value: Buffer,
    /** ms since the epoch; 0: none. */
    readonly expiresAt: number,
  ) {}
}
