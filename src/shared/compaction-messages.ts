// Owns the typed messages of compaction: the plan the writer makes, the job the caller's thread
// gives the compaction worker, the worker's events, and the result the writer installs. Every
// thread involved imports these; nothing else defines their shape.

import type { Compression } from './block-compression.js';
import type { SerializedError } from './errors.js';

/** When and how much to merge (StoreOptions.compaction, resolved). */
export interface CompactionPolicy {
  /** Merge when a segment's reclaimable share reaches this (Bitcask: 60%). */
  readonly triggerDeadRatio: number;
  /** ...or when its reclaimable bytes reach this. */
  readonly triggerDeadBytes: number;
  /** A merge also takes neighbours at least this dead (Bitcask: 40%)... */
  readonly includeDeadRatio: number;
  /** ...or smaller than this. */
  readonly smallSegmentBytes: number;
  /** Input bytes one automatic merge takes at most (it stops adding segments past this). */
  readonly maxMergeBytes: number;
  /**
   * When no merge is due, rewrite sealed log segments sorted (data segments), as an LSM tree
   * flushes its memtable, so that range scans walk blocks instead of reading the log.
   */
  readonly sortSealed: boolean;
  /**
   * Segments whose replay span starts at or before this (`Segment.first`) are not sorted: a
   * sort of them failed (0: none).
   */
  readonly sortSkipThrough: number;
  /** Sorting waits until no segment was sealed for this long (ms; the check's interval). */
  readonly sortQuietMs: number;
}

/** One segment a merge reads. */
export interface MergeInput {
  readonly id: number;
  readonly handle: number;
  readonly size: number;
  /** Whether it is a data segment (`.sst`, point entries) rather than a log segment. */
  readonly sorted: boolean;
}

/** A merge the writer planned: contiguous segments `first..last` into segment `outputId`. */
export interface MergePlan {
  readonly outputId: number;
  readonly first: number;
  readonly last: number;
  readonly inputs: readonly MergeInput[];
  /** True when no older segment exists: tombstones and expired records are then dropped. */
  readonly dropTombstones: boolean;
  /** Wall-clock ms the merge judges expiry by. */
  readonly now: number;
  /** The newest segment that was sealed when the plan was made (compact() stops there). */
  readonly sealedThrough: number;
  /** The log's last sequence number when the plan was made (recorded in the merged hint). */
  readonly sequence: number;
  /**
   * Why: `'all'` (compact()), `'dead'` (a trigger fired: bytes to reclaim), or `'sort'` (only
   * sealed log segments to sort, `CompactionPolicy.sortSealed`).
   */
  readonly reason: 'all' | 'dead' | 'sort';
}

/**
 * A damaged stretch of an input segment the merge skipped: `[from, to)` holds no valid record.
 * The writer refuses to install the merge if a live key still points into it.
 */
export interface MergeDamage {
  readonly segmentId: number;
  readonly handle: number;
  readonly from: number;
  readonly to: number;
  /** The key the damaged record's header names, if it can still be read (not verified). */
  readonly key?: string;
}

/** What the worker wrote: the merged segment and hint under temporary names, and the moves. */
export interface MergeResult {
  readonly size: number;
  /** Bytes of the output in no record (block framing, index, filter, properties, footer). */
  readonly overhead: number;
  /** The moves to install, packed as merge-moves.ts lays them out (MoveListBuilder). */
  readonly moves: Uint32Array;
  readonly records: number;
  readonly tombstoneBytes: number;
  readonly bytesRead: number;
  /** Damaged stretches of the inputs, skipped (see MergeDamage). */
  readonly damaged: readonly MergeDamage[];
}

/** What installing a merge did. */
export interface InstallOutcome {
  /** Keys moved to the new segment. */
  readonly moved: number;
  /** Keys the writer changed while the merge ran (their copies in the new segment are dead). */
  readonly superseded: number;
  /** Expired keys removed. */
  readonly dropped: number;
  readonly retiredBytes: number;
  /** Damaged stretches of the inputs no live key pointed into, skipped, and their bytes. */
  readonly damagedRanges: number;
  readonly damagedBytes: number;
}

/** A sealed segment that has no hint file yet. */
export interface UnhintedSegment {
  readonly id: number;
  readonly size: number;
}

/** Work for the compaction worker (workerData). `control[0]` set to 1 asks it to stop. */
/**
 * How a compaction job compresses the blocks of the sorted segments it writes (key runs): the
 * store's `compression` and, for zstd, `compressionLevel` options.
 */
export interface BlockCompressionSetting {
  readonly compression: Compression;
  /** The zstd level; undefined for the other compressions. */
  readonly level: number | undefined;
}

/** One job for the compaction worker. */
export type CompactionJob =
  | {
      readonly kind: 'merge';
      readonly dir: string;
      readonly index: SharedArrayBuffer;
      readonly control: SharedArrayBuffer;
      readonly plan: MergePlan;
      readonly bytesPerSecond: number;
      readonly blocks: BlockCompressionSetting;
      /** Whether the merge may map its inputs (the store's read mode is `'mmap'`). */
      readonly mapInputs: boolean;
    }
  | {
      readonly kind: 'hint';
      readonly dir: string;
      readonly control: SharedArrayBuffer;
      readonly segment: UnhintedSegment;
      readonly bytesPerSecond: number;
      readonly blocks: BlockCompressionSetting;
    };

/** What the compaction worker posts back. */
export type CompactionEvent =
  | { readonly kind: 'progress'; readonly bytesRead: number; readonly bytesTotal: number }
  | { readonly kind: 'merged'; readonly result: MergeResult }
  | { readonly kind: 'hinted'; readonly entries: number }
  | { readonly kind: 'failed'; readonly error: SerializedError };
