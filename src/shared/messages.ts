// Owns the typed messages that cross threads: the writer worker's RPC surface (called over
// comlink, except writes, which have their own two messages) and the reader pool's tasks and
// replies. Both sides import these types; nothing else defines a message shape, except the
// daemon's network threads' (network-messages.ts).

import type {
  CompactionPolicy,
  InstallOutcome,
  MergePlan,
  MergeResult,
  UnhintedSegment,
} from './compaction-messages.js';
import type { SerializedError } from './errors.js';
import type { LatencyDistribution } from './latency-histogram.js';
import type { LogLevel } from './logger.js';
import type { ReadMode } from './segment-fds.js';
import type { OpResult } from './write-ops.js';

/** Durability policy, as Redis names it. */
export type Durability = 'always' | 'everysec' | 'no';

/** What the writer needs to open a store directory. */
export interface WriterConfig {
  readonly dir: string;
  readonly durability: Durability;
  readonly segmentBytes: number;
  /** Bits of the key hash to keep (32 in production; tests use fewer to force collisions). */
  readonly hashBits: number;
  /** Largest value an operation (append) may produce; default: no limit beyond the format's. */
  readonly maxValueBytes?: number;
  /** Index snapshot period in ms while writes happen (0: only at close; default 0). */
  readonly snapshotIntervalMs?: number;
  /** How the writer reads stored records (overwrite checks, getSync-like reads); default 'pread'. */
  readonly readMode?: ReadMode;
  /** Repair the directory before recovery (salvage intact records, set damage aside). */
  readonly repair?: boolean;
  /** Period of the `everysec` background sync in ms (default 1,000; tests shorten it). */
  readonly syncIntervalMs?: number;
  /** Period of the active expiry cycle in ms (default 100; 0: none). */
  readonly expiryCycleMs?: number;
}

/** A damaged stretch repair set aside (`Store.open(dir, { repair: true })`, `kvd repair`). */
export interface RepairedRange {
  /** The segment file it was in. */
  readonly file: string;
  /** Where it started in that file (0 for a whole file set aside). */
  readonly offset: number;
  /** Its length in bytes. */
  readonly bytes: number;
  /** The file its bytes were saved to. */
  readonly savedTo: string;
  /**
   * Keys of the records lost with it, where they can still be read: keys of intact records
   * set aside with it (a batch is kept only whole), and the key a damaged header names
   * (marked as such: those bytes may be damaged too).
   */
  readonly lostKeys: readonly string[];
  /** Why the scan could not use it. */
  readonly reason: string;
}

/** What a repair did. */
export interface RepairReport {
  /** Segment files read whole. */
  readonly segmentsChecked: number;
  /** Segments rewritten without their damaged stretches. */
  readonly segmentsRepaired: number;
  /** Records kept in the rewritten segments. */
  readonly recordsSalvaged: number;
  /** Every stretch set aside. */
  readonly damaged: readonly RepairedRange[];
  /** Segment files set aside whole (their header was unreadable). */
  readonly setAside: readonly string[];
  /** Every key named in `damaged`, once. */
  readonly lostKeys: readonly string[];
}

/**
 * Progress of recovery during `open`: bytes of segments (and hint files, counted as their
 * segments' bytes) processed so far, out of the total. Posted by the writer thread outside
 * comlink (WriterLink picks it out of the thread's messages).
 */
export interface RecoveryProgressMessage {
  readonly kvdRecoveryProgress: { readonly done: number; readonly total: number };
}

/**
 * What the writer thread does with its log lines, given in its `workerData` (`WriterInit`):
 * write kvd's JSON lines on stderr itself (at a pino level name), post those at or above `level`
 * to the caller's thread as `WriterLogMessage`s, or drop them all.
 */
export type WriterLogging =
  | { readonly to: 'stderr'; readonly level: string }
  | { readonly to: 'caller'; readonly level: LogLevel }
  | { readonly to: 'none' };

/** The writer thread's `workerData`. */
export interface WriterInit {
  /** Where its log lines go. */
  readonly logging: WriterLogging;
}

/**
 * One log line of the writer thread, posted outside comlink (as `RecoveryProgressMessage` is)
 * when its `WriterLogging` is `caller`. Errors in the fields are plain objects (`PlainError`),
 * since structured clone drops an error's custom fields such as `code`.
 */
export interface WriterLogMessage {
  readonly kvdLog: {
    readonly level: LogLevel;
    readonly fields: Readonly<Record<string, unknown>>;
    readonly message: string | undefined;
  };
}

/**
 * The change feed (WriterApi.setFeed), posted outside comlink: copies of the records one append
 * wrote, in log order, their buffer transferred.
 */
export interface WriterFeedMessage {
  readonly kvdFeed: Uint8Array;
}

/**
 * One buffer of records for the writer (`WriterApi.write`), posted outside comlink: writes are
 * the one hot call, and comlink's envelope (a random id, a path, wrapped arguments) costs each
 * of them on both threads. Shares the thread's port with comlink, so it keeps its order among
 * comlink's calls (a `sync` or `close` after writes runs after them). `kvdWrite` is the write's
 * id, which its `WriteAnswerMessage` carries back; the buffer is transferred.
 */
export interface WriteRequestMessage {
  readonly kvdWrite: number;
  readonly records: ArrayBuffer;
  readonly length: number;
}

/**
 * The writer's answer to a `WriteRequestMessage`: its reply. (`WriterService.write` reports
 * failures in the reply; if it ever threw, the thread would die of the unhandled rejection, and
 * WriterLink rejects every write still unanswered.)
 */
export interface WriteAnswerMessage {
  readonly kvdWritten: number;
  readonly reply: WriteReply;
}

/** An error in a `WriterLogMessage`'s fields. */
export interface PlainError {
  /** The error's class name (`KvError`, `Error`, …). */
  readonly type: string;
  /** Its message. */
  readonly message: string;
  /** Its code (`KV_IO`, `ENOSPC`, …), if it had one. */
  readonly code?: string;
  /** Its stack trace, if it had one. */
  readonly stack?: string;
}

/** Per-segment accounting, as `stats()` reports it. */
export interface SegmentStats {
  /** Segment id (the number in its file name, NNNNNN.log). */
  readonly id: number;
  /** Size of the segment file in bytes, header included. */
  readonly bytes: number;
  /** Bytes of the records the index points at (the keys' current values), less expired ones. */
  readonly liveBytes: number;
  /** Bytes no live key needs: bytes − 32-byte header − liveBytes (includes tombstoneBytes and expiredBytes). */
  readonly deadBytes: number;
  /** Keys whose current record is in this segment (expired ones not counted). */
  readonly liveKeys: number;
  /**
   * Bytes of records the index still points at whose expiry has passed (part of `deadBytes`:
   * a merge reclaims them). Expiry is accounted per second, so up to a second late.
   */
  readonly expiredBytes: number;
  /** Keys of those records. */
  readonly expiredKeys: number;
  /** Bytes of tombstones (part of `deadBytes`). */
  readonly tombstoneBytes: number;
  /** Its file's name in the store directory: `NNNNNN.log` (a log) or `NNNNNN.sst` (sorted). */
  readonly file: string;
  /**
   * Written by compaction (holds what log segments `first`..`last` still held): a sorted data
   * segment, `NNNNNN.sst` (FORMAT.md, "Data segment").
   */
  readonly merged: boolean;
  /** Lowest log segment id whose records this file holds (a log segment's own id). */
  readonly first: number;
  /** Highest log segment id whose records this file holds (a log segment's own id). */
  readonly last: number;
  /** Whether its hint file exists. */
  readonly hinted: boolean;
  /** Whether this is the active segment, the one the writer appends to. */
  readonly active: boolean;
}

/** What the writer knows about the store. */
export interface WriterStats {
  readonly segments: readonly SegmentStats[];
  readonly lastSeq: number;
  readonly writes: number;
  readonly flushes: number;
  readonly syncs: number;
  /** Expired keys deleted since open: by reads that found them and by the expiry cycle. */
  readonly expiredKeys: number;
  /** Live keys with an expiry, and the mean ms left of those not yet expired (SegmentTable.withExpiry). */
  readonly withExpiry: { readonly keys: number; readonly avgTtlMs: number };
  /** When the index snapshot was last written (ms since the epoch; 0: not since open). */
  readonly lastSnapshotAt: number;
  /** The durability mode in effect (it can change while open: `setDurability`). */
  readonly durability: Durability;
  /** Damaged stretches merges skipped since open (no live key needed them), and their bytes. */
  readonly damageSkippedByMerges: { readonly ranges: number; readonly bytes: number };
  /** How long each fdatasync of the active log segment took since open (LogWriter.syncLatency). */
  readonly syncLatency: LatencyDistribution;
}

/** A torn tail recovery cut off the last segment at open (see FORMAT.md, "Recovery"). */
export interface TornTailReport {
  /** The segment's file name. */
  readonly file: string;
  /** Where the cut starts. */
  readonly offset: number;
  /** Bytes cut off. */
  readonly bytes: number;
  /**
   * Whole, valid records among the cut bytes (written after the last sync, so never reported
   * durable; after a power loss pages can reach the disk out of order).
   */
  readonly recordsAfter: number;
  /** Where the cut bytes were saved. */
  readonly savedTo: string;
}

/** Reply to `open`: the shared index and what recovery did. */
export interface WriterOpened {
  readonly index: SharedArrayBuffer;
  /** The version log (version-log.ts) snapshots read displaced versions from. */
  readonly versions: SharedArrayBuffer;
  readonly recoveredRecords: number;
  /** Segments restored from an index snapshot, loaded from hint files, and scanned. */
  readonly restoredSegments: number;
  readonly hintedSegments: number;
  readonly scannedSegments: number;
  readonly truncatedBytes: number;
  /** The torn tail cut off the last segment, if any. */
  readonly tornTail?: TornTailReport;
  /** What repair did, when the store was opened with `repair`. */
  readonly repair?: RepairReport;
  readonly recoveryMs: number;
}

/** What the caller asks of the writer for a hot backup (`WriterApi.backup`). */
export interface BackupRequest {
  /** An empty directory to put the backup's files in (the backup's staging directory). */
  readonly staging: string;
  /** Hard-link sealed files where the file system allows it; false: copy every file. */
  readonly link: boolean;
  /** Bytes a second the copying is paced to; 0: no limit. */
  readonly bytesPerSecond: number;
}

/** What the writer put in a backup's staging directory (`WriterApi.backup`). */
export interface BackupCopied {
  /** The last sequence number in the copy: it holds every record up to it and none after. */
  readonly sequence: number;
  /** The segment that was active at the capture, copied up to `activeBytes`. */
  readonly activeSegment: number;
  /** How many bytes of the active segment the copy holds (its end at the capture). */
  readonly activeBytes: number;
  /** Files in the backup. */
  readonly files: number;
  /** Files hard-linked to the store's own (sealed segments, hints, key runs). */
  readonly linked: number;
  /** Files copied (the active segment, and sealed files that could not be linked). */
  readonly copied: number;
  /** Bytes of all the backup's files. */
  readonly bytes: number;
  /** Bytes of the copied files. */
  readonly copiedBytes: number;
}

/** Per-record outcome codes in a `WriteReply`. The write succeeded. */
export const WRITE_OK = 0;
/** The write succeeded and replaced (put) or removed (delete) a live key. */
export const WRITE_OK_EXISTED = 1;
/** The write failed; the reply's `error` says why. */
export const WRITE_FAILED = 2;

/**
 * Reply to `write`: one outcome per record of the submitted buffer (WRITE_OK, WRITE_OK_EXISTED
 * when a put replaced or a delete removed a live key, WRITE_FAILED), and the error that failed
 * records, if any did.
 */
export interface WriteReply {
  readonly outcomes: Uint8Array;
  readonly error?: SerializedError;
  /** Results of read-modify-write operations (write-ops.ts), by record number. */
  readonly results?: Readonly<Record<number, OpResult>>;
}

/** A reply that carries nothing but success or an error. */
export type VoidReply =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: SerializedError };

/** A reply that carries a value or an error. */
export type ValueReply<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SerializedError };

/**
 * The writer worker's RPC surface (src/workers/writer.ts exposes it over comlink; `write`
 * travels as `WriteRequestMessage` and `WriteAnswerMessage` instead).
 * `write` takes a buffer whose first `length` bytes are records laid out by the caller with seq and CRC zero
 * (format.writeRecordHeader); the writer stamps, appends, syncs and publishes them.
 */
export interface WriterApi {
  open(config: WriterConfig): Promise<ValueReply<WriterOpened>>;
  write(records: ArrayBuffer, length: number): Promise<WriteReply>;
  sync(): Promise<VoidReply>;
  stats(): Promise<ValueReply<WriterStats>>;
  /**
   * After appending everything queued, a point-in-time copy of every live key's location as
   * (handle, offset, length) u32 triples (IndexTable.writerCopyLocations).
   */
  snapshot(): Promise<ValueReply<Uint32Array>>;
  /**
   * Plans the next merge (compaction-plan.ts) and reserves its output id, or answers null when
   * none is due. Only segments spanning ids after `after` and up to `upTo` are considered.
   * With `all`, takes every such sealed segment (up to policy.maxMergeBytes), sealing the
   * active segment first when `after` is 0. Refuses (KV_INTERNAL) while another planned merge
   * is pending.
   */
  planCompaction(
    all: boolean,
    after: number,
    upTo: number,
    policy: CompactionPolicy,
  ): Promise<ValueReply<MergePlan | null>>;
  /** Up to `count` random live keys' locations as (handle, offset, length) triples. */
  sample(count: number): Promise<ValueReply<Uint32Array>>;
  /**
   * Appends what is queued, syncs the log and writes the index snapshot now; answers when it
   * was written (ms since the epoch).
   */
  checkpoint(): Promise<ValueReply<number>>;
  /**
   * Turns the change feed on or off. On: answers the sequence number of the last record
   * appended before; every later record is posted as a `WriterFeedMessage`. Off: answers 0.
   */
  setFeed(on: boolean): Promise<ValueReply<number>>;
  /** Changes the durability mode from the next append on. */
  setDurability(durability: Durability): Promise<VoidReply>;
  /** Installs a merge the worker finished (merge-install.ts). */
  installCompaction(plan: MergePlan, result: MergeResult): Promise<ValueReply<InstallOutcome>>;
  /** Forgets a planned merge that will not be installed, removing its temporary files. */
  abandonCompaction(plan: MergePlan): Promise<VoidReply>;
  /** Sealed segments without a hint file, oldest first. */
  unhintedSegments(): Promise<ValueReply<UnhintedSegment[]>>;
  /** Records that the hint file of segment `id` now exists. */
  hintWritten(id: number): Promise<VoidReply>;
  /**
   * Hot backup: in one turn, appends what is queued, syncs, and links (or opens) every sealed
   * file and the active segment into `request.staging`; then copies what it could not link and
   * the active segment's bytes up to its end at that turn, while writes go on
   * (backup-capture.ts). Close stops a backup in progress (`KV_CLOSED`).
   */
  backup(request: BackupRequest): Promise<ValueReply<BackupCopied>>;
  close(): Promise<VoidReply>;
}

/** Data every reader worker gets at start-up (Piscina workerData). */
export interface ReaderInit {
  readonly dir: string;
  readonly index: SharedArrayBuffer;
  /** How the reader reads records: memory maps or pread. */
  readonly readMode: ReadMode;
}

/**
 * A reader task: `keys` packs the keys as [u32 count][u32 length × count][key bytes…].
 * `getMany` answers values; `has` answers presence flags.
 */
export type ReadTask =
  | { readonly kind: 'getMany' | 'has'; readonly keys: ArrayBuffer }
  /** Reads the keys of the records at `locations` ((handle, offset, length) u32 triples), packed like `keys`. */
  | { readonly kind: 'keysAt'; readonly locations: ArrayBuffer };

/**
 * A reader reply: on success the packed ArrayBuffer itself (transferred, not copied), else the
 * error. For `getMany` it packs [i32 start, i32 length] per key (start −1 = absent) followed by
 * the records the values live in; for `has`, one byte per key.
 */
export type ReadReply = ArrayBuffer | SerializedError;
