// Owns the types of the public Store API: keys and values, batch operations, options of single
// calls, and what stats() and setWith() answer. Shared by Store and RemoteStore (IPC).

import type { RepairReport, SegmentStats, TornTailReport } from '../shared/messages.js';
import type { ResolvedOptions } from './options.js';

/** A key or a value: a string (stored as UTF-8) or bytes. */
export type Bytes = string | Uint8Array;

/** One operation of an atomic `batch`. */
export type BatchOp =
  | {
      /** Sets `key` to `value`. */
      type: 'set';
      /** The key to set. */
      key: Bytes;
      /** Its new value. */
      value: Bytes;
      /** When it expires, in ms since the epoch (default 0: never). */
      expiresAt?: number;
    }
  | {
      /** Deletes `key` (an absent key is not an error). */
      type: 'delete';
      /** The key to delete. */
      key: Bytes;
    };

/** Options of `setWith`, a conditional set (Redis's SET NX/XX/GET/KEEPTTL). */
export interface SetWithOptions {
  /** Write only if the key has no value (NX). */
  ifAbsent?: boolean;
  /** Write only if the key has a value (XX). With `ifAbsent` too, nothing is ever written. */
  ifPresent?: boolean;
  /** Answer the value the key had (GET). */
  returnPrevious?: boolean;
  /** Keep the key's current expiry (KEEPTTL); otherwise `expiresAt` (default none) applies. */
  keepExpiry?: boolean;
  /** Absolute expiry in ms since the epoch; 0 = none. */
  expiresAt?: number;
}

/**
 * A condition on `expire`, as Redis's EXPIRE options: `NX` only if the key has no expiry, `XX`
 * only if it has one, `GT` only if the new expiry is later, `LT` only if earlier (no expiry
 * counts as never expiring).
 */
export type ExpireCondition = 'NX' | 'XX' | 'GT' | 'LT';

/** What `setWith` answers. */
export interface SetWithResult {
  /** Whether the value was written (false when `ifAbsent` or `ifPresent` did not hold). */
  readonly written: boolean;
  /**
   * The value the key had before the call, with `returnPrevious`; undefined if it had none (or
   * was expired), and always undefined without `returnPrevious`.
   */
  readonly previous: Buffer | undefined;
}

/** Options of `batch`. */
export interface BatchOptions {
  /**
   * Keys and the versions they must still have (`Store.version`; undefined: the key must still
   * be absent or expired) for the batch to apply: the writer checks them in line with every
   * other write, just before the batch, so nothing can change them in between. If any key
   * changed, nothing is written and `batch` rejects with `KV_CONFLICT`. A Map or an array of
   * `[key, version]` pairs.
   */
  ifVersions?: Iterable<readonly [Bytes, number | undefined]>;
  /**
   * Keys that must be absent and have had no value at any moment after a sequence number from
   * `sequence()` (read before you found them absent): a key written and deleted, or written
   * and expired, meanwhile fails the check as a changed version does, with `KV_CONFLICT`. This
   * is Redis's WATCH for a key that did not exist. A Map or an array of `[key, sequence]`
   * pairs. (The store remembers the last 65,536 removals; a check older than all of them
   * fails, so a very old sequence number can conflict without a change to its key.)
   */
  ifAbsentSince?: Iterable<readonly [Bytes, number]>;
}

/** A key's live value with its version and expiry, read in one go (`Store.entrySync`). */
export interface Entry {
  /** The value. */
  readonly value: Buffer;
  /** The sequence number of the key's current record: it changes with every write of the key. */
  readonly version: number;
  /** When it expires, in ms since the epoch (0: never). */
  readonly expiresAt: number;
}

/**
 * Which keys a range scan (`Store.range`, `Store.rangeSync`) walks. Keys sort bytewise by
 * their bytes (a string key by its UTF-8 bytes). Bounds combine (a prefix and a `gte` both
 * hold); an unknown option is refused with `KV_INVALID_ARGUMENT`.
 */
export interface RangeOptions {
  /** Keys after this one. */
  readonly gt?: Bytes;
  /** Keys from this one on. */
  readonly gte?: Bytes;
  /** Keys before this one. */
  readonly lt?: Bytes;
  /** Keys up to this one. */
  readonly lte?: Bytes;
  /** Keys that start with these bytes. */
  readonly prefix?: Bytes;
  /** From the greatest key down (default: from the least up). */
  readonly reverse?: boolean;
  /** At most this many entries (default, Infinity or -1: all). */
  readonly limit?: number;
  /** False: keys only, no value reads (`value` is then absent). Default true. */
  readonly values?: boolean;
}

/** One entry of a range scan: the key, and its value unless the scan asked for keys only. */
export interface RangeEntry {
  /** The key's bytes. */
  readonly key: Buffer;
  /** The value (absent with `values: false`). */
  readonly value?: Buffer;
}

/** An entry of a keys-only range scan (`values: false`). */
export interface RangeKey {
  /** The key's bytes. */
  readonly key: Buffer;
}

/** An entry of a range scan with values (the default). */
export interface RangeKeyValue {
  /** The key's bytes. */
  readonly key: Buffer;
  /** The key's value. */
  readonly value: Buffer;
}

/** Options of a single `set`. */
export interface SetOptions {
  /** Absolute expiry time in ms since the epoch; the key reads as absent from then on. 0 = never. */
  expiresAt?: number;
}

/** What `stats()` reports. */
export interface StoreStats {
  /** Live keys in the index, counting expired keys that no merge has dropped yet. */
  readonly keys: number;
  /** Bytes of shared memory the index occupies. */
  readonly indexBytes: number;
  /** Shared index bytes per live key (the table runs 50–75% full). */
  readonly indexBytesPerKey: number;
  /** Slots in the shared index table. */
  readonly indexCapacity: number;
  /** Every segment, log and merged, in replay order. */
  readonly segments: readonly SegmentStats[];
  /** Sum of the segments' file sizes in bytes (not counting hint files or the snapshot). */
  readonly diskBytes: number;
  /** Sum of the segments' live bytes: the records the index points at. */
  readonly liveBytes: number;
  /** Sum of the segments' dead bytes (file bytes − 32-byte header − live bytes). */
  readonly deadBytes: number;
  /** The last sequence number the writer gave out (0 if no record was ever written). */
  readonly lastSeq: number;
  /** The durability mode in effect. */
  readonly durability: ResolvedOptions['durability'];
  /** Threads in the reader pool. */
  readonly readers: number;
  /** How records are read: `mmap` (memory-mapped segments) or `pread` (see the `readMode` option). */
  readonly readMode: ResolvedOptions['readMode'];
  /** What the last open did to rebuild the index. */
  readonly recovery: {
    /** Records replayed into the index (from hint files and segment scans). */
    readonly records: number;
    /** Bytes cut off a torn tail of the last segment (kept aside in a `.torn-<offset>` file). */
    readonly truncatedBytes: number;
    /** Milliseconds the open's recovery took. */
    readonly ms: number;
    /** Segments loaded from the index snapshot (the one it resumes in also counts as scanned). */
    readonly restoredSegments: number;
    /**
     * Segments loaded without a scan: log segments from their hint files, and sorted data
     * segments (`.sst`, merge output) from their own entries, which are their hint.
     */
    readonly hintedSegments: number;
    /** Segments read by scanning their records. */
    readonly scannedSegments: number;
    /**
     * The torn tail cut off the last segment at open, if there was one: where, how many bytes,
     * where they were saved, and how many valid records were among them (never reported
     * durable: they lay after the last synced byte).
     */
    readonly tornTail?: TornTailReport;
    /** What repair did, when the store was opened with `repair: true`. */
    readonly repair?: RepairReport;
  };
  /** Damage met since open (damage found at open fails the open instead). */
  readonly damage: {
    /** Reads refused with `KV_CORRUPTION`, by any thread (get, getSync, getMany, keys, …). */
    readonly reads: number;
    /** Damaged stretches compaction skipped (no live key needed them), and their bytes. */
    readonly skippedByMerges: {
      /** Stretches skipped. */
      readonly ranges: number;
      /** Their bytes. */
      readonly bytes: number;
    };
  };
  /**
   * Keys looked up since open (getSync, get, getMany, has; not keys()), by where they were read:
   * batches of up to `inlineReadKeys` keys and getSync on the caller's thread, bigger ones by
   * the reader pool. A key of a failed pooled task counts where it is retried (inline).
   */
  readonly reads: {
    /** Keys read on the caller's thread (getSync, batches of up to inlineReadKeys, retries). */
    readonly inline: number;
    /** Keys read by the reader threads. */
    readonly pooled: number;
  };
  /**
   * When the index snapshot was last written (at a `checkpoint()`, periodically, at repair),
   * in ms since the epoch; 0 if not since open.
   */
  readonly lastSnapshotAt: number;
  /** Snapshots (`Store.snapshot()`, and one per range scan in progress) and what they cost. */
  readonly snapshots: {
    /** Held now. */
    readonly held: number;
    /** Record versions the writer has kept for them since none was held. */
    readonly versions: number;
    /** Bytes of shared memory the version log takes. */
    readonly versionBytes: number;
    /** Bytes of segment files a finished merge keeps until they are released. */
    readonly pinnedBytes: number;
  };
  /**
   * Keys with an expiry: how many the index holds (counting expired ones not yet deleted, as
   * Redis's INFO keyspace `expires` does), and the mean time left of those not yet expired in
   * ms (to the end of each one's expiry second: at most 1 s over; 0 when none).
   */
  readonly withExpiry: {
    /** Keys in the index that have an expiry. */
    readonly keys: number;
    /** Mean ms left before the ones not yet expired expire. */
    readonly avgTtlMs: number;
  };
  /** The writer thread's counters since open. */
  readonly writer: {
    /** Records appended to the log. */
    readonly writes: number;
    /** Group commits: appends of everything queued since the last one. */
    readonly flushes: number;
    /** fdatasyncs of the active segment. */
    readonly syncs: number;
    /**
     * Expired keys deleted since open: by reads on the caller's thread that found them expired
     * (`get`, `getSync`, `keys()`), and by the active expiry cycle, which samples keys ten times
     * a second as Redis does.
     */
    readonly expiredKeys: number;
  };
}
