// Owns the types of the public Store API: keys and values, batch operations, options of single
// calls, and what stats() and setWith() answer. Shared by Store and RemoteStore (IPC).

import type { SegmentStats } from '../shared/messages.js';
import type { ResolvedOptions } from './options.js';

/** A key or a value: a string (stored as UTF-8) or bytes. */
export type Bytes = string | Uint8Array;

/** One operation of an atomic `batch`. */
export type BatchOp = { type: 'set'; key: Bytes; value: Bytes } | { type: 'delete'; key: Bytes };

/** Options of `setWith`, a conditional set (Redis's SET NX/XX/GET/KEEPTTL). */
export interface SetWithOptions {
  /** Write only if the key has no value (NX). */
  ifAbsent?: boolean;
  /** Write only if the key has a value (XX). */
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
  readonly written: boolean;
  readonly previous: Buffer | undefined;
}

/** Options of a single `set`. */
export interface SetOptions {
  /** Absolute expiry time in ms since the epoch; the key reads as absent from then on. 0 = never. */
  expiresAt?: number;
}

/** What `stats()` reports. */
export interface StoreStats {
  readonly keys: number;
  readonly indexBytes: number;
  /** Shared index bytes per live key (the table runs 50–75% full). */
  readonly indexBytesPerKey: number;
  readonly indexCapacity: number;
  readonly segments: readonly SegmentStats[];
  readonly diskBytes: number;
  readonly liveBytes: number;
  readonly deadBytes: number;
  readonly lastSeq: number;
  readonly durability: ResolvedOptions['durability'];
  readonly readers: number;
  readonly recovery: {
    readonly records: number;
    readonly truncatedBytes: number;
    readonly ms: number;
    /** Segments the last open loaded from an index snapshot, from hint files, and by scanning. */
    readonly restoredSegments: number;
    readonly hintedSegments: number;
    readonly scannedSegments: number;
  };
  readonly writer: { readonly writes: number; readonly flushes: number; readonly syncs: number };
}
